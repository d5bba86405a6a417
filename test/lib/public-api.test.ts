/**
 * What another CDK app gets from `import … from 'dodo-slack-notifier'`: exactly the construct,
 * the stack, Transformation and the types their signatures use. Anything else exported from
 * lib/index.ts becomes a promise to users, so adding a name here is a decision, not a test update.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';
import * as api from '../../lib';
import type { DodoWebhookEvent, SlackMessage, TypedTransform, TypedTransformContext } from '../../lib';

const entryPoint = path.join(__dirname, '../../lib/index.ts');

/**
 * Every name lib/index.ts exports, types included, as the compiler sees it (so `export *` counts
 * too). Only the library's own sources are read: which names it exports does not depend on the
 * contents of aws-cdk-lib, and skipping node_modules keeps this in milliseconds.
 */
function exportedNames(): string[] {
  const options: ts.CompilerOptions = { noEmit: true, noLib: true, types: [] };
  const host = ts.createCompilerHost(options);
  const readSource = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, ...rest) => (fileName.includes(`${path.sep}node_modules${path.sep}`) ? undefined : readSource(fileName, ...rest));
  const program = ts.createProgram([entryPoint], options, host);
  const checker = program.getTypeChecker();
  const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(entryPoint)!)!;
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => symbol.name)
    .sort();
}

test('at run time the library exports the construct, the stack and Transformation, nothing else', () => {
  expect(Object.keys(api).sort()).toEqual(['DodoSlackNotifier', 'DodoSlackNotifierStack', 'Transformation']);
});

test('the types it exports are those of the public signatures, nothing internal', () => {
  expect(exportedNames()).toEqual([
    'BuiltinTemplateOptions',
    'DodoSlackNotifier',
    'DodoSlackNotifierAlarms',
    'DodoSlackNotifierProps',
    'DodoSlackNotifierStack',
    'DodoSlackNotifierStackProps',
    'DodoSlackRoute',
    'DodoSlackSummaries',
    'DodoWebhookEvent',
    'NotifierSummaries',
    'SlackMessage',
    'SummaryTime',
    'SummaryWeekday',
    'Transformation',
    'TypedTransform',
    'TypedTransformContext',
    'UserCodeTransformationOptions',
    'WeeklySummaryTime',
  ]);
});

test('a typed transformation written against the exported types compiles and runs on real events', async () => {
  const transform: TypedTransform = (event: DodoWebhookEvent): SlackMessage | null =>
    event.type === 'payment.succeeded' ? { text: `paid ${event.data.payment_id}` } : null;
  const fixture = (name: string) =>
    JSON.parse(readFileSync(path.join(__dirname, `../fixtures/dodo/${name}.json`), 'utf8')) as DodoWebhookEvent;
  const paid = fixture('payment.succeeded');
  const refund = fixture('refund.succeeded');
  const context = (webhookId: string): TypedTransformContext => ({ webhookId });
  const paymentId = (paid.data as { payment_id: string }).payment_id;
  expect(paymentId).toMatch(/^pay_/);
  expect(await transform(paid, context('msg_1'))).toEqual({ text: `paid ${paymentId}` });
  expect(await transform(refund, context('msg_2'))).toBeNull();
});

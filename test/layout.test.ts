/**
 * The shape of lambda/, checked from the sources themselves: folders follow the flow, imports
 * between them point one way, nothing under lambda/ loads the CDK side, and AWS is imported only
 * by the adapters named here (everything else is pure logic that tests run without mocks).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const LAMBDA = path.join(ROOT, 'lambda');

/** Which lambda/ folders each folder may import from: receiver → queue → transformer → Slack, shared below all. */
const ALLOWED_IMPORTS: Readonly<Record<string, readonly string[]>> = {
  shared: [],
  receiver: ['shared'],
  messages: ['shared'],
  sandbox: ['shared'],
  summaries: ['shared', 'messages'],
  alerts: ['shared', 'messages', 'summaries'],
  transformer: ['shared', 'messages', 'sandbox', 'summaries'],
  local: ['shared', 'receiver', 'transformer', 'messages', 'sandbox', 'summaries', 'alerts'],
};

/** The only modules that talk to AWS (SDK, Powertools, Lambda types, middy): handlers and adapters. */
const AWS_ADAPTERS = [
  'alerts/dynamodb-alerts.ts',
  'alerts/handler.ts',
  'receiver/handler.ts',
  'receiver/sqs-webhook-queue.ts',
  'shared/aws/dodo-api-key.ts',
  'shared/aws/secrets-manager.ts',
  'shared/aws/sqs-message.ts',
  'shared/aws/telemetry.ts',
  'transformer/dynamodb-thread-store.ts',
  'summaries/dynamodb-aggregates.ts',
  'summaries/handler.ts',
  'transformer/handler.ts',
  'transformer/idempotency.ts',
  'transformer/sqs-delivery.ts',
  'transformer/sqs-rollup.ts',
];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module specifier a file names: static and dynamic imports, re-exports, require() and `typeof import()`. */
function specifiers(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const found = [...text.matchAll(/(?:\bfrom\s*|\brequire\(\s*|\bimport\(\s*)['"]([^'"]+)['"]/g)].map((match) => match[1]);
  const sideEffectImports = [...text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((match) => match[1]);
  return [...found, ...sideEffectImports];
}

const folderOf = (file: string): string => path.relative(LAMBDA, file).split(path.sep)[0];
const files = sourceFiles(LAMBDA);

test('lambda/ has exactly the folders of the flow', () => {
  const folders = fs.readdirSync(LAMBDA, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  expect(folders.sort()).toEqual(Object.keys(ALLOWED_IMPORTS).sort());
});

test('nothing under lambda/ imports lib/ (runtime code never loads the CDK side)', () => {
  const offenders = files.flatMap((file) =>
    specifiers(file)
      .filter((spec) => spec.startsWith('.') && path.resolve(path.dirname(file), spec).startsWith(path.join(ROOT, 'lib')))
      .map((spec) => `${path.relative(ROOT, file)} imports ${spec}`),
  );
  expect(offenders).toEqual([]);
});

test('imports between lambda/ folders point one way (no folder cycle)', () => {
  const offenders = files.flatMap((file) => {
    const from = folderOf(file);
    return specifiers(file)
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => path.resolve(path.dirname(file), spec))
      .filter((target) => target.startsWith(LAMBDA + path.sep))
      .map(folderOf)
      .filter((to) => to !== from && !(ALLOWED_IMPORTS[from] ?? []).includes(to))
      .map((to) => `${path.relative(ROOT, file)} (${from}/) imports ${to}/`);
  });
  expect(offenders).toEqual([]);
});

test('only the handlers and adapters import AWS packages; the rest is pure logic', () => {
  const aws = /^(@aws-sdk\/|@aws-lambda-powertools\/|aws-lambda$|@middy\/)/;
  const importingAws = files.filter((file) => specifiers(file).some((spec) => aws.test(spec))).map((file) => path.relative(LAMBDA, file));
  expect(importingAws.sort()).toEqual([...AWS_ADAPTERS].sort());
});

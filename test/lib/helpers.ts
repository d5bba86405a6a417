import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import type { DodoSlackNotifierProps } from '../../lib/props';

/**
 * Where this test file's apps write their cloud assemblies. Without an outdir every synthesized
 * App leaves a `cdk.out…/cdk.out` folder of its own in the system temp dir (about 60 per run of
 * test/lib); this one folder is removed when the file's tests are done.
 */
const outdirRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-infra-test-'));
afterAll(() => fs.rmSync(outdirRoot, { recursive: true, force: true }));

/** A fresh cloud-assembly folder inside this test file's temporary folder. */
export function testOutdir(): string {
  return fs.mkdtempSync(path.join(outdirRoot, 'cdk.out-'));
}

/** An app that skips esbuild (template tests need the asset metadata, not the bundle) and writes to a temp folder. */
export function testApp(context: Record<string, unknown> = {}): App {
  return new App({ outdir: testOutdir(), context: { 'aws:cdk:bundling-stacks': [], ...context } });
}

export interface Synthesized {
  readonly app: App;
  readonly stack: Stack;
  readonly notifier: DodoSlackNotifier;
  readonly template: Template;
}

/** A bare stack with one notifier, synthesized. `configure` may add resources (e.g. secrets) to the stack first. */
export function synthNotifier(
  props: DodoSlackNotifierProps | ((stack: Stack) => DodoSlackNotifierProps) = {},
): Synthesized {
  const app = testApp();
  const stack = new Stack(app, 'TestStack');
  const notifier = new DodoSlackNotifier(stack, 'Notifier', typeof props === 'function' ? props(stack) : props);
  return { app, stack, notifier, template: Template.fromStack(stack) };
}

/** A resource's properties by logical id prefix; fails when there is not exactly one. */
export function onlyResource(template: Template, type: string, logicalIdPrefix = ''): Record<string, any> {
  const matches = Object.entries(template.findResources(type)).filter(([id]) => id.startsWith(logicalIdPrefix));
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} starting with "${logicalIdPrefix}", found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  }
  return matches[0][1];
}

/** Environment variables of the function whose logical id starts with `prefix`. */
export function functionEnv(template: Template, prefix: 'NotifierReceiverFunction' | 'NotifierTransformerFunction'): Record<string, any> {
  return onlyResource(template, 'AWS::Lambda::Function', prefix).Properties.Environment.Variables;
}

/** All policy statements attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): any[] {
  const roleIds = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(rolePrefix));
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => policy.Properties.Roles.some((role: any) => roleIds.includes(role.Ref)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** Actions (as a sorted list) granted on a resource reference, across statements. */
export function actionsOn(statements: any[], resource: unknown): string[] {
  const same = (candidate: unknown) => JSON.stringify(candidate) === JSON.stringify(resource);
  return statements
    .filter((statement) => [statement.Resource].flat().some(same))
    .flatMap((statement) => [statement.Action].flat())
    .sort();
}

/** cdk-nag AwsSolutions findings nobody acknowledged, as `RuleId path` strings. Call after synthesis. */
export function unacknowledgedNagFindings(app: App): string[] {
  const report = new AwsSolutionsChecks().validateScope(app);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => `${violation.ruleName} ${resource.constructPath}`),
  );
}

/**
 * Renders a CloudFormation string value (plain, or Fn::Join of strings and Ref/GetAtt) with
 * references as `<Ref:LogicalId>` / `<GetAtt:LogicalId.Attr>` (other intrinsics as `<json>`), so JSON
 * env values can be parsed.
 */
export function renderCfnString(value: unknown): string {
  if (typeof value === 'string') return value;
  const object = value as Record<string, any>;
  if (object.Ref) return `<Ref:${object.Ref}>`;
  if (object['Fn::GetAtt']) return `<GetAtt:${object['Fn::GetAtt'].join('.')}>`;
  if (object['Fn::Join']) {
    const [separator, parts] = object['Fn::Join'];
    return (parts as unknown[]).map(renderCfnString).join(separator);
  }
  return `<${JSON.stringify(value)}>`;
}

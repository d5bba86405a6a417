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

/**
 * A resource of a synthesized template as a test reads it. `P` is the shape of the properties the
 * test looks at (a claim the test's expectations then check); by default they are all `unknown`.
 */
export interface TemplateResource<P = Record<string, unknown>> {
  readonly Type: string;
  readonly Properties: P;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

/** A synthesized template's JSON (`Template.toJSON()`, or a `*.template.json` file), as the tests read it. */
export interface TemplateJson {
  readonly Resources: Readonly<Record<string, TemplateResource>>;
  readonly Outputs?: Readonly<Record<string, { readonly Value: unknown }>>;
}

/** A `*.template.json` file of a cloud assembly. */
export function readTemplateFile(file: string): TemplateJson {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as TemplateJson;
}

/** One IAM policy statement as CloudFormation has it. */
export interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | readonly string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/** The resources of `type` in `template`, by logical id. */
export function resourcesOf<P = Record<string, unknown>>(template: Template, type: string): Record<string, TemplateResource<P>> {
  return template.findResources(type) as Record<string, TemplateResource<P>>;
}

/** A resource by logical id prefix; fails when there is not exactly one. */
export function onlyResource<P = Record<string, unknown>>(template: Template, type: string, logicalIdPrefix = ''): TemplateResource<P> {
  const matches = Object.entries(resourcesOf<P>(template, type)).filter(([id]) => id.startsWith(logicalIdPrefix));
  if (matches.length !== 1) {
    throw new Error(`expected one ${type} starting with "${logicalIdPrefix}", found ${matches.map(([id]) => id).join(', ') || 'none'}`);
  }
  return matches[0][1];
}

/** Environment variables of the function whose logical id starts with `prefix`. */
export function functionEnv(template: Template, prefix: 'NotifierReceiverFunction' | 'NotifierTransformerFunction' | 'NotifierAlertsFunction'): Record<string, unknown> {
  return onlyResource<{ Environment: { Variables: Record<string, unknown> } }>(template, 'AWS::Lambda::Function', prefix).Properties.Environment.Variables;
}

/** All policy statements attached to the role whose logical id starts with `rolePrefix`. */
export function roleStatements(template: Template, rolePrefix: string): PolicyStatementJson[] {
  const roleIds = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(rolePrefix));
  const policies = resourcesOf<{ Roles: { Ref?: string }[]; PolicyDocument: { Statement: PolicyStatementJson[] } }>(template, 'AWS::IAM::Policy');
  return Object.values(policies)
    .filter((policy) => policy.Properties.Roles.some((role) => role.Ref !== undefined && roleIds.includes(role.Ref)))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement);
}

/** Actions (as a sorted list) granted on a resource reference, across statements. */
export function actionsOn(statements: readonly PolicyStatementJson[], resource: unknown): string[] {
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
  const object = value as { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, unknown[]] };
  if (object.Ref) return `<Ref:${object.Ref}>`;
  if (object['Fn::GetAtt']) return `<GetAtt:${object['Fn::GetAtt'].join('.')}>`;
  if (object['Fn::Join']) {
    const [separator, parts] = object['Fn::Join'];
    return parts.map(renderCfnString).join(separator);
  }
  return `<${JSON.stringify(value)}>`;
}

/**
 * AWS Control Tower's proactive controls, as the cfn-guard rules `@cdklabs/cdk-validator-cfnguard`
 * ships them (the same rules Control Tower runs as CloudFormation hooks, where `cdk deploy` is
 * refused on a finding). The notifier meets every rule but those in lib/control-tower.ts, and each
 * of those hides a real finding.
 *
 * A hook evaluates a resource's properties as CloudFormation resolved them: `{ Ref: AWS::AccountId }`
 * is the account id by then. The rules read a template literally, so an environment-agnostic
 * template is checked as deployed (pseudo parameters resolved, see `asDeployed`) and an
 * environment-bound one as it is.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { buildApp } from '../../lib/app-config';
import { ROUTING_CONFIG } from '../support/routing-story';
import { CONTROL_TOWER_DISABLED_RULES } from '../../lib/control-tower';
import { DodoSlackNotifier } from '../../lib/dodo-slack-notifier';
import { DodoSlackNotifierStack } from '../../lib/dodo-slack-notifier-stack';
import type { DodoSlackNotifierProps } from '../../lib/props';
import { readTemplateFile, renderCfnString, testApp, testOutdir, unacknowledgedNagFindings, type PolicyStatementJson } from './helpers';

/** The part of an AWS::KMS::Key's properties these tests read or change. */
type KeyPolicyProperties = { KeyPolicy: { Statement: PolicyStatementJson[] } };

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const ENV = { account: ACCOUNT, region: REGION };
const DISABLED = CONTROL_TOWER_DISABLED_RULES.map((rule) => rule.rule);

/** cfn-guard findings for one template file, as `ct-<service>-pr-<n> LogicalId`, sorted. */
function guardFindings(templatePath: string, disabledRules: readonly string[] = DISABLED): string[] {
  const report = new CfnGuardValidator({ disabledRules: [...disabledRules] }).validate({ templatePaths: [templatePath] } as never);
  return report.violations
    .flatMap((violation) => {
      const control = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(violation.description)?.[1] ?? violation.ruleName;
      const rule = control.toLowerCase().replace(/\./g, '-');
      return violation.violatingResources.map((resource) => `${rule} ${resource.resourceLogicalId}`);
    })
    .sort();
}

/** The template file of a synthesized stack. */
function templateFile(app: App, stack: Stack): string {
  const assembly = app.synth();
  return path.join(assembly.directory, stack.templateFile);
}

/**
 * The template as a CloudFormation hook sees it: the pseudo parameters (account, region,
 * partition, URL suffix) resolved, as CloudFormation does before it calls a hook.
 */
function asDeployed(file: string): string {
  const pseudo: Record<string, string> = {
    'AWS::AccountId': ACCOUNT,
    'AWS::Region': REGION,
    'AWS::Partition': 'aws',
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (value === null || typeof value !== 'object') return value;
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length === 1 && keys[0] === 'Ref' && typeof object.Ref === 'string' && object.Ref in pseudo) return pseudo[object.Ref];
    const resolved = Object.fromEntries(keys.map((key) => [key, resolve(object[key])]));
    // A join of plain strings is a plain string once its references are resolved.
    const join = resolved['Fn::Join'] as [string, unknown[]] | undefined;
    if (keys.length === 1 && join && join[1].every((part) => typeof part === 'string')) return join[1].join(join[0]);
    return resolved;
  };
  const deployed = path.join(testOutdir(), `deployed-${path.basename(file)}`);
  fs.writeFileSync(deployed, JSON.stringify(resolve(JSON.parse(fs.readFileSync(file, 'utf8')))));
  return deployed;
}

/** A bare notifier in an environment-bound stack, synthesized; its template file. */
function bareNotifier(props: DodoSlackNotifierProps | ((stack: Stack) => DodoSlackNotifierProps) = {}) {
  const app = testApp();
  const stack = new Stack(app, 'UserStack', { env: ENV });
  const notifier = new DodoSlackNotifier(stack, 'Notifier', typeof props === 'function' ? props(stack) : props);
  return { app, stack, notifier, file: templateFile(app, stack) };
}

describe('the deployable stack (bin/app.ts)', () => {
  test('has no finding but the acknowledged ones, as a Control Tower hook sees it', () => {
    const app = testApp();
    const stack = buildApp(app);
    expect(guardFindings(asDeployed(templateFile(app, stack)))).toEqual([]);
  });

  test('read literally, its environment-agnostic template only shows the unresolved source account', () => {
    // The permission names its source account as { Ref: AWS::AccountId }; the rule wants a string,
    // which the hook gets. An environment-bound stack (next test) has the string in the template.
    const app = testApp();
    const stack = buildApp(app);
    expect(guardFindings(templateFile(app, stack))).toEqual([
      expect.stringMatching(/^ct-lambda-pr-2 NotifierApiwebhooksdodoPOSTApiPermission/),
    ]);
  });

  test('with a routing configuration file (-c config=FILE), no finding but the acknowledged ones', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-ct-config-'));
    try {
      const config = path.join(dir, 'dodo-slack.config.json');
      fs.writeFileSync(config, JSON.stringify(ROUTING_CONFIG));
      const app = testApp({ config });
      const stack = buildApp(app);
      expect(guardFindings(asDeployed(templateFile(app, stack)))).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('bound to an account and region, with context, its template has no finding but the acknowledged ones', () => {
    const app = testApp({ events: 'payment.*', alarmEmail: 'ops@example.com', slackWebhookSecretName: 'dodo/slack' });
    const stack = new DodoSlackNotifierStack(app, 'Bound', { env: ENV, events: ['payment.*'], alarmEmail: 'ops@example.com' });
    expect(guardFindings(templateFile(app, stack))).toEqual([]);
  });
});

describe('the bare construct', () => {
  test('new DodoSlackNotifier(stack, "Notifier") has no finding but the acknowledged ones', () => {
    expect(guardFindings(bareNotifier().file)).toEqual([]);
  });

  test('with summaries (their table, function, schedules and Scheduler role), no finding but the acknowledged ones', () => {
    const summaries = { timeZone: 'Europe/Berlin', daily: { hour: 9 }, weekly: { weekday: 'mon' as const, hour: 9 } };
    expect(guardFindings(bareNotifier({ summaries }).file)).toEqual([]);
    expect(guardFindings(bareNotifier({ summaries }).file, [])).toContainEqual(expect.stringMatching(/^ct-lambda-pr-3 NotifierSummarySummaryFunction|^ct-lambda-pr-3 NotifierSummaryFunction/));
  });

  test('with alerts (their function, rate schedule, Scheduler role and silence alarm), no finding but the acknowledged ones', () => {
    expect(guardFindings(bareNotifier({ alerts: {} }).file)).toEqual([]);
  });

  test('in Slack app mode (the thread table), no finding but the acknowledged ones', () => {
    const { file, notifier } = bareNotifier((stack) => ({
      slackBotTokenSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Bot', 'slack/bot'),
      slackChannelId: 'C0123456789',
    }));
    expect(notifier.threadTable).toBeDefined();
    expect(guardFindings(file)).toEqual([]);
  });

  test('each acknowledged rule hides a real finding (without the acknowledgements, cfn-guard reports it)', () => {
    const findings = guardFindings(bareNotifier().file, []);
    const rules = [...new Set(findings.map((finding) => finding.split(' ')[0]))].sort();
    expect(rules).toEqual([...DISABLED].sort());
    expect(findings).toEqual([
      expect.stringMatching(/^ct-lambda-pr-3 NotifierReceiverFunction/),
      expect.stringMatching(/^ct-lambda-pr-3 NotifierTransformerFunction/),
    ]);
  });

  test('with vpc, both functions run in it and no rule needs acknowledging', () => {
    const { file, app } = bareNotifier((stack) => ({
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
        vpcId: 'vpc-0123456789abcdef0',
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      }),
    }));
    expect(guardFindings(file, [])).toEqual([]);
    expect(unacknowledgedNagFindings(app)).toEqual([]);
    const functions = readTemplateFile(file).Resources;
    const vpcConfigs = Object.values(functions)
      .filter((resource) => resource.Type === 'AWS::Lambda::Function')
      .map((resource) => (resource.Properties as { VpcConfig?: { SubnetIds: string[] } }).VpcConfig?.SubnetIds);
    expect(vpcConfigs).toEqual([
      ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
      ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    ]);
  });

  test('vpcSubnets without vpc is refused', () => {
    expect(() => bareNotifier({ vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED } })).toThrow(
      'vpcSubnets applies only with vpc',
    );
  });
});

describe('each control is met by the construct, and fails when its cause comes back', () => {
  test.each([
    ['tracing: false', 'ct-apigateway-pr-2', { tracing: false }],
    ['logRetention under a year', 'ct-cloudwatch-pr-2', { logRetention: logs.RetentionDays.ONE_MONTH }],
  ] as const)('%s gives %s', (_name, rule, props) => {
    const findings = guardFindings(bareNotifier(props).file);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((finding) => finding.startsWith(`${rule} `))).toBe(true);
  });

  test('without the construct\'s changes to them, the stage, the log groups, the table, the key, the permission and the DLQ fail', () => {
    const { file } = bareNotifier();
    const template = readTemplateFile(file);
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type === 'AWS::Logs::LogGroup') delete resource.Properties.KmsKeyId;
      if (resource.Type === 'AWS::DynamoDB::Table') delete resource.Properties.SSESpecification;
      if (resource.Type === 'AWS::KMS::Key') {
        const policy = (resource.Properties as KeyPolicyProperties).KeyPolicy;
        policy.Statement = policy.Statement.filter((statement) => statement.Sid !== 'GrantsOnlyForAwsServices');
      }
      if (resource.Type === 'AWS::Lambda::Permission') delete resource.Properties.SourceAccount;
      if (resource.Type === 'AWS::SQS::Queue') delete resource.Properties.RedriveAllowPolicy;
    }
    const reverted = path.join(testOutdir(), 'reverted.template.json');
    fs.writeFileSync(reverted, JSON.stringify(template));
    const rules = [...new Set(guardFindings(reverted).map((finding) => finding.split(' ')[0]))].sort();
    expect(rules).toEqual(['ct-cloudwatch-pr-3', 'ct-dynamodb-pr-2', 'ct-kms-pr-3', 'ct-lambda-pr-2', 'ct-sqs-pr-1']);
  });

  test('only the stage invoke permission exists, not the console test-invoke one', () => {
    const { file } = bareNotifier();
    const permissions = Object.values(readTemplateFile(file).Resources).filter(
      (resource) => resource.Type === 'AWS::Lambda::Permission',
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0].Properties).toMatchObject({ Principal: 'apigateway.amazonaws.com', SourceAccount: ACCOUNT });
    expect(JSON.stringify(permissions[0].Properties.SourceArn)).not.toContain('test-invoke-stage');
  });
});

describe('the encryption key', () => {
  test('lets CloudWatch Logs encrypt this account\'s log groups and CloudWatch alarms publish to the topic', () => {
    const { file, notifier, stack } = bareNotifier();
    const template = readTemplateFile(file);
    const keyId = stack.getLogicalId(notifier.encryptionKey.node.defaultChild as never);
    const statements = (template.Resources[keyId].Properties as KeyPolicyProperties).KeyPolicy.Statement;
    const bySid = Object.fromEntries(statements.filter((statement) => statement.Sid).map((statement): [string, PolicyStatementJson] => [statement.Sid!, statement]));
    expect(bySid.CloudWatchLogsEncryptLogGroups).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: `logs.${REGION}.amazonaws.com` },
    });
    expect(renderCfnString(bySid.CloudWatchLogsEncryptLogGroups.Condition!.ArnLike['kms:EncryptionContext:aws:logs:arn'])).toBe(
      `arn:<Ref:AWS::Partition>:logs:${REGION}:${ACCOUNT}:log-group:*`,
    );
    expect(bySid.CloudWatchAlarmsPublishToTopic).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    });
    expect(template.Resources[keyId].Properties.EnableKeyRotation).toBe(true);
    const topic = Object.values(template.Resources).find((resource) => resource.Type === 'AWS::SNS::Topic');
    expect(topic!.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
  });

  test('a key passed as encryptionKey is used everywhere, given the same statements, and no second key is created', () => {
    const { file, stack } = bareNotifier((scope) => ({ encryptionKey: new kms.Key(scope, 'MyKey', { enableKeyRotation: true }) }));
    const template = readTemplateFile(file);
    const keys = Object.entries(template.Resources).filter(([, resource]) => resource.Type === 'AWS::KMS::Key');
    expect(keys.map(([id]) => id)).toEqual([expect.stringMatching(/^MyKey/)]);
    const sids = (keys[0][1].Properties as KeyPolicyProperties).KeyPolicy.Statement.map((statement) => statement.Sid).filter(Boolean);
    expect(sids).toEqual(['CloudWatchLogsEncryptLogGroups', 'CloudWatchAlarmsPublishToTopic']);
    expect(JSON.stringify(template)).toContain(`"KmsKeyId":{"Fn::GetAtt":["${keys[0][0]}","Arn"]}`);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('encryptionKey'))).toEqual([]);
  });

  test('an imported key cannot be given the statements: the synth warns with what it must allow', () => {
    const { stack } = bareNotifier((scope) => ({
      encryptionKey: kms.Key.fromKeyArn(scope, 'Imported', `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`),
    }));
    const warnings = Annotations.fromStack(stack).findWarning('/UserStack/Notifier', Match.stringLikeRegexp('imported key'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain('cloudwatch.amazonaws.com');
  });
});

test('tracing: false drops the X-Ray permissions and their cdk-nag acknowledgement', () => {
  const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge');
  try {
    const { app, file } = bareNotifier({ tracing: false });
    expect(fs.readFileSync(file, 'utf8')).not.toContain('xray:');
    expect(acknowledge.mock.calls.map(([ack]) => ack.id)).not.toContain('AwsSolutions-IAM5[Resource::*]');
    expect(unacknowledgedNagFindings(app)).toEqual([]);
  } finally {
    acknowledge.mockRestore();
  }
});

test('the README lists every acknowledged control with its reason', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  for (const { control, rule } of CONTROL_TOWER_DISABLED_RULES) {
    expect(readme).toContain(`\`${rule}\``);
    expect(readme).toContain(control);
  }
  expect(DodoSlackNotifier.controlTowerDisabledRules).toEqual(DISABLED);
});

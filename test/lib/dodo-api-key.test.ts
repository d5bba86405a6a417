/** The `dodoApiKeySecret` and `dodoApiUrl` props: the two functions that look names up, and only they, read the key. */
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { TransformerEnv } from '../../lambda/shared/function-env';
import { MetricName } from '../../lambda/shared/metrics';
import { actionsOn, functionEnv, onlyResource, resourcesOf, roleStatements, synthNotifier } from './helpers';

const KEY_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:dodo/api-key-AbCdEf';
const keyProps = (stack: import('aws-cdk-lib').Stack) => ({
  dodoApiKeySecret: secretsmanager.Secret.fromSecretCompleteArn(stack, 'DodoKey', KEY_ARN),
  dodoApiUrl: 'https://dodo-proxy.example.com',
  summaries: { daily: { hour: 9 } },
});

test('the transformer and the summary function get the secret ARN and the URL, and read access to that secret; no other function does', () => {
  const { template } = synthNotifier(keyProps);
  expect(functionEnv(template, 'NotifierTransformerFunction')).toMatchObject({ [TransformerEnv.DodoApiKeySecretArn]: KEY_ARN, [TransformerEnv.DodoApiUrl]: 'https://dodo-proxy.example.com' });
  const summary = onlyResource<{ Environment: { Variables: Record<string, unknown> } }>(template, 'AWS::Lambda::Function', 'NotifierSummaryFunction');
  expect(summary.Properties.Environment.Variables).toMatchObject({ [TransformerEnv.DodoApiKeySecretArn]: KEY_ARN });
  expect(actionsOn(roleStatements(template, 'NotifierTransformerRole'), KEY_ARN)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  expect(actionsOn(roleStatements(template, 'NotifierSummaryRole'), KEY_ARN)).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  // Nobody else: the receiver never sees it.
  const policies = Object.values(resourcesOf<{ Roles: { Ref?: string }[]; PolicyDocument: { Statement: { Resource: unknown }[] } }>(template, 'AWS::IAM::Policy'));
  const readers = policies.filter((policy) => JSON.stringify(policy.Properties.PolicyDocument).includes(KEY_ARN)).flatMap((policy) => policy.Properties.Roles.map((role) => role.Ref ?? ''));
  expect(readers.map((role) => role.replace(/Role[0-9A-F]{8}$/, '')).sort()).toEqual(['NotifierSummary', 'NotifierTransformer']);
  expect(functionEnv(template, 'NotifierReceiverFunction')[TransformerEnv.DodoApiKeySecretArn]).toBeUndefined();
});

test('without the key nothing changes: no variable, no grant', () => {
  const { template } = synthNotifier({});
  expect(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.DodoApiKeySecretArn]).toBeUndefined();
  expect(JSON.stringify(template.toJSON())).not.toContain('DODO_API');
});

test('dodoApiUrl without the key, or not an https URL, fails the synth naming the prop', () => {
  expect(() => synthNotifier({ dodoApiUrl: 'https://dodo-proxy.example.com' })).toThrow(/dodoApiUrl applies only with dodoApiKeySecret/);
  expect(() => synthNotifier((stack) => ({ ...keyProps(stack), dodoApiUrl: 'ftp://x' }))).toThrow(/dodoApiUrl must be an https URL/);
  expect(() => synthNotifier((stack) => ({ ...keyProps(stack), dodoApiUrl: 'http://dodo-proxy.example.com' }))).toThrow(/dodoApiUrl must be an https URL/);
});

test("the look-ups' metrics are known to metric()", () => {
  const { notifier } = synthNotifier({});
  expect(notifier.metric(MetricName.NameLookupFailed).metricName).toBe('NameLookupFailed');
  expect(notifier.metric(MetricName.NameLookupSkipped).metricName).toBe('NameLookupSkipped');
});

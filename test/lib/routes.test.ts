/** `routes`: one RouteConfig per route in ROUTES, grants per Slack secret, the receiver filter is the union. */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { ReceiverEnv, RouteConfig, TransformerEnv } from '../../lambda/shared/function-env';
import { Transformation } from '../../lib/transformation';
import { actionsOn, functionEnv, renderCfnString, roleStatements, synthNotifier } from './helpers';

const routesOf = (template: Template): RouteConfig[] =>
  JSON.parse(renderCfnString(functionEnv(template, 'NotifierTransformerFunction')[TransformerEnv.Routes])) as RouteConfig[];
const secretRef = (stack: Stack, secret: secretsmanager.ISecret): unknown => stack.resolve(secret.secretArn);

describe('default route plus two routes', () => {
  let risk!: secretsmanager.ISecret;
  let sales!: secretsmanager.ISecret;
  let ops!: secretsmanager.ISecret;
  const { stack, template } = synthNotifier((scope) => {
    ops = new secretsmanager.Secret(scope, 'Ops');
    risk = new secretsmanager.Secret(scope, 'Risk');
    sales = new secretsmanager.Secret(scope, 'Sales');
    return {
      slackWebhookSecret: ops,
      events: ['*'],
      routes: [
        { id: 'Risk', events: ['dispute.*', 'refund.failed'], slackWebhookSecret: risk },
        {
          id: 'Sales',
          events: ['payment.succeeded'],
          slackWebhookSecret: sales,
          transformation: Transformation.fromInline('function handler(webhook) { return webhook; }'),
        },
      ],
    };
  });

  test('ROUTES lists the default route first, then the routes in order, each with its secret and transformation', () => {
    expect(routesOf(template)).toEqual([
      { id: 'default', events: ['*'], slackSecretId: renderCfnString(secretRef(stack, ops)), transformation: { kind: 'builtin', options: {} } },
      {
        id: 'Risk',
        events: ['dispute.*', 'refund.failed'],
        slackSecretId: renderCfnString(secretRef(stack, risk)),
        transformation: { kind: 'builtin', options: {} },
      },
      {
        id: 'Sales',
        events: ['payment.succeeded'],
        slackSecretId: renderCfnString(secretRef(stack, sales)),
        transformation: { kind: 'code', codeId: 'Sales', timeoutMs: expect.any(Number) as unknown },
      },
    ]);
  });

  test('the transformer may read every route secret', () => {
    const statements = roleStatements(template, 'NotifierTransformerRole');
    for (const secret of [ops, risk, sales]) {
      expect(actionsOn(statements, secretRef(stack, secret))).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    }
  });

  test('the receiver filter takes everything when any route does', () => {
    expect(functionEnv(template, 'NotifierReceiverFunction')[ReceiverEnv.EventFilter]).toBe('["*"]');
  });
});

describe('routes only (no default route)', () => {
  let risk!: secretsmanager.ISecret;
  const { notifier, template } = synthNotifier((scope) => {
    risk = secretsmanager.Secret.fromSecretNameV2(scope, 'Risk', 'slack/risk');
    const shared = secretsmanager.Secret.fromSecretNameV2(scope, 'Shared', 'slack/shared');
    return {
      routes: [
        { id: 'Risk', events: ['dispute.*'], slackWebhookSecret: risk },
        { id: 'Payments', events: ['payment.*', 'dispute.*'], slackWebhookSecret: shared },
        { id: 'Refunds', events: ['refund.*'], slackWebhookSecret: shared },
      ],
    };
  });

  test('no Slack secret is created and slackWebhookSecret is undefined', () => {
    expect(notifier.slackWebhookSecret).toBeUndefined();
    template.resourceCountIs('AWS::SecretsManager::Secret', 1); // the signing secret
  });

  test('the receiver filter is the union of the route globs, without repeats', () => {
    expect(JSON.parse(functionEnv(template, 'NotifierReceiverFunction')[ReceiverEnv.EventFilter] as string)).toEqual([
      'dispute.*',
      'payment.*',
      'refund.*',
    ]);
  });

  test('ROUTES has exactly the given routes', () => {
    expect(routesOf(template).map((route) => route.id)).toEqual(['Risk', 'Payments', 'Refunds']);
  });

  test('a secret shared by two routes is granted once', () => {
    const statements = roleStatements(template, 'NotifierTransformerRole');
    const sharedGrants = statements.filter((s) => JSON.stringify(s.Resource).includes('slack/shared'));
    expect(sharedGrants).toHaveLength(1);
    expect(statements.filter((s) => JSON.stringify(s.Resource).includes('slack/risk'))).toHaveLength(1);
  });
});

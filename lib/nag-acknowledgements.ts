import { Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IConstruct } from 'constructs';
import type { DodoSlackNotifier } from './dodo-slack-notifier';

/**
 * The cdk-nag AwsSolutions findings the notifier cannot fix, acknowledged on the exact resource
 * with the reason, so a user's `Validations.of(app).addPlugins(new AwsSolutionsChecks(app))` stays
 * clean. Everything else cdk-nag asks for is fixed in the construct itself (own least-privilege
 * roles, SSE and TLS-only queues, PITR, access and execution logs, TLS-only alarm topic).
 */
export function acknowledgeNagFindings(notifier: DodoSlackNotifier, options: { readonly tracing: boolean }): void {
  const acknowledge = (construct: IConstruct | undefined, id: string, reason: string) => {
    if (construct) Validations.of(construct).acknowledge({ id, reason });
  };

  for (const secret of [notifier.signingSecret, notifier.slackWebhookSecret]) {
    // Only secrets this construct created; passed-in secrets belong to (and are checked in) the caller's scope.
    if (secret instanceof secretsmanager.Secret && secret.node.scope === notifier) {
      acknowledge(
        secret,
        'AwsSolutions-SMG4',
        'The value is issued by Dodo Payments (signing key) or Slack (incoming-webhook URL), so no rotation ' +
          'function can create a new one; operators rotate it in the console (several signing keys may coexist).',
      );
    }
  }

  for (const fn of [notifier.receiverFunction, notifier.transformerFunction, notifier.summaries?.summaryFunction, notifier.alerts?.alertFunction]) {
    acknowledge(
      fn,
      'AwsSolutions-L1',
      'Pinned to Node.js 22 on purpose: the handlers are built and tested for it, and a runtime change ' +
        'should be a reviewed release of this construct rather than a side effect of upgrading aws-cdk-lib.',
    );
  }

  if (options.tracing) {
    for (const fn of [notifier.receiverFunction, notifier.transformerFunction, notifier.summaries?.summaryFunction, notifier.alerts?.alertFunction]) {
      acknowledge(
        fn?.role?.node.tryFindChild('DefaultPolicy'),
        'AwsSolutions-IAM5[Resource::*]',
        'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords support no resource-level ' +
          'permissions, so AWS documents them on "*". Every other statement of this role names its resource.',
      );
    }
  }

  const api = notifier.api;
  acknowledge(
    api,
    'AwsSolutions-APIG2',
    'API Gateway request validation cannot check a Standard Webhooks signature; the receiver verifies it on ' +
      'the raw body and answers 401/400/413 as Dodo expects. A validator in front would change those answers.',
  );
  acknowledge(
    api.deploymentStage,
    'AwsSolutions-APIG3',
    'Requests are authenticated by their HMAC signature and the stage is throttled; a WAF web ACL adds cost ' +
      'and can be associated by the user with api.deploymentStage when their policy requires one.',
  );
  for (const method of api.methods) {
    const reason =
      'Dodo Payments cannot sign requests with IAM or present Cognito tokens; the endpoint is public by ' +
      'design and every request is authenticated by its Standard Webhooks signature in the receiver.';
    acknowledge(method, 'AwsSolutions-APIG4', reason);
    acknowledge(method, 'AwsSolutions-COG4', reason);
  }
  acknowledge(
    api.node.tryFindChild('CloudWatchRole'),
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
    'API Gateway needs this account-level role to write access logs; the AWS managed policy is the one ' +
      'AWS documents for it and is scoped to CloudWatch Logs.',
  );
}

import * as path from 'node:path';
import { Annotations, CfnOutput, Duration, Stack, StackProps } from 'aws-cdk-lib';
import { METRICS_NAMESPACE } from '../lambda/shared/metrics';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DodoSlackNotifier } from './dodo-slack-notifier';
import type { DodoSlackNotifierProps, DodoSlackRoute } from './props';
import { Transformation } from './transformation';
import { COMPLETE_SECRET_ARN, ConfigFileError, readNotifierConfig, type ConfigFileTransformation } from '../lambda/shared/config-file';

/** A configuration file's transformation as the construct's: the built-in templates, dashboard-style code (.js, .cjs) or a typed module. */
function transformationOf(spec: ConfigFileTransformation): Transformation {
  if ('builtin' in spec) return Transformation.builtin(spec.builtin);
  const options = spec.timeoutMs === undefined ? {} : { timeout: Duration.millis(spec.timeoutMs) };
  return ['.js', '.cjs'].includes(path.extname(spec.codePath)) ? Transformation.fromFile(spec.codePath, options) : Transformation.fromModule(spec.codePath, options);
}

/**
 * Props of {@link DodoSlackNotifierStack}: the stack's own, every notifier prop, and existing
 * secrets by ARN or name (what `cdk deploy -c ...` can express; inside a CDK app prefer passing
 * `slackWebhookSecret` / `signingSecret` directly).
 */
export interface DodoSlackNotifierStackProps extends StackProps, DodoSlackNotifierProps {
  /**
   * Complete ARN (with the 6-character suffix) of an existing Slack webhook secret.
   * @default - see `slackWebhookSecretName`
   */
  readonly slackWebhookSecretArn?: string;
  /**
   * Name of an existing Slack webhook secret.
   * @default - `slackWebhookSecret`, or a new secret with a placeholder
   */
  readonly slackWebhookSecretName?: string;
  /**
   * Complete ARN (with the 6-character suffix) of an existing signing secret.
   * @default - see `signingSecretName`
   */
  readonly signingSecretArn?: string;
  /**
   * Name of an existing signing secret.
   * @default - `signingSecret`, or a new secret with a placeholder
   */
  readonly signingSecretName?: string;
  /**
   * A routing configuration file (the one `dodo-slack serve --config` runs; see README "Routing
   * rules"): its routes are added to `routes`, each posting with the Secrets Manager secret its
   * `slackWebhookSecret` / `slackBotTokenSecret` names (by name or complete ARN). Without a default
   * route, `summaries` go to the file's first route unless they name one.
   * @default - only `routes`
   */
  readonly routesConfigFile?: string;
}

/**
 * A deployable stack holding one {@link DodoSlackNotifier}, with outputs an operator needs after
 * `cdk deploy`: the URL to paste into Dodo and console links to set the secrets, inspect the
 * dead-letter queue and open the notifier's metrics (or its dashboard, with `dashboard: true`).
 */
export class DodoSlackNotifierStack extends Stack {
  /** The notifier: every resource is reachable through it. */
  public readonly notifier: DodoSlackNotifier;

  constructor(scope: Construct, id: string, props: DodoSlackNotifierStackProps = {}) {
    super(scope, id, props);
    const fromFile = props.routesConfigFile === undefined ? undefined : this.routesFromFile(props.routesConfigFile);
    const fileRoutes = fromFile?.routes ?? [];
    const routes = fromFile === undefined ? props.routes : [...(props.routes ?? []), ...fileRoutes];
    const dodoApiKeySecret = props.dodoApiKeySecret ?? fromFile?.dodoApiKeySecret;
    const hasDefaultSecret = [props.slackWebhookSecret, props.slackWebhookSecretArn, props.slackWebhookSecretName, props.slackBotTokenSecret].some((given) => given !== undefined);
    // Without a default route, summaries go to the file's first route, as `serve --config` posts them.
    const summaries =
      props.summaries !== undefined && props.summaries.route === undefined && !hasDefaultSecret && fileRoutes.length > 0
        ? { ...props.summaries, route: fileRoutes[0].id }
        : props.summaries;
    this.notifier = new DodoSlackNotifier(this, 'Notifier', {
      ...props,
      ...(routes === undefined ? {} : { routes }),
      ...(summaries === undefined ? {} : { summaries }),
      slackWebhookSecret: this.existingSecret(
        'SlackWebhookSecret',
        props.slackWebhookSecret,
        props.slackWebhookSecretArn,
        props.slackWebhookSecretName,
      ),
      signingSecret: this.existingSecret('SigningSecret', props.signingSecret, props.signingSecretArn, props.signingSecretName),
      ...(dodoApiKeySecret === undefined ? {} : { dodoApiKeySecret }),
    });
    const notifier = this.notifier;

    new CfnOutput(this, 'WebhookUrl', {
      description: 'Paste into Dodo Payments: Developer > Webhooks > Add endpoint',
      value: notifier.endpointUrl,
    });
    new CfnOutput(this, 'SigningSecretConsoleUrl', {
      description: 'Set the signing secret here: the signing key from Dodo webhook settings (Plaintext)',
      value: this.secretConsoleUrl(notifier.signingSecret),
    });
    if (notifier.slackWebhookSecret) {
      new CfnOutput(this, 'SlackWebhookSecretConsoleUrl', {
        description: 'Set the Slack incoming-webhook URL of the default route here (Plaintext)',
        value: this.secretConsoleUrl(notifier.slackWebhookSecret),
      });
    }
    if (notifier.slackBotTokenSecret) {
      new CfnOutput(this, 'SlackBotTokenSecretConsoleUrl', {
        description: 'Set the Slack bot token (xoxb-...) of the default route here (Plaintext)',
        value: this.secretConsoleUrl(notifier.slackBotTokenSecret),
      });
    }
    for (const route of routes ?? []) {
      if (route.slackWebhookSecret) {
        new CfnOutput(this, `Route${route.id}SlackWebhookSecretConsoleUrl`, {
          description: `Set the Slack incoming-webhook URL of route ${route.id} here (Plaintext)`,
          value: this.secretConsoleUrl(route.slackWebhookSecret),
        });
      } else if (route.slackBotTokenSecret) {
        new CfnOutput(this, `Route${route.id}SlackBotTokenSecretConsoleUrl`, {
          description: `Set the Slack bot token (xoxb-...) of route ${route.id} here (Plaintext)`,
          value: this.secretConsoleUrl(route.slackBotTokenSecret),
        });
      }
    }
    // The SQS console addresses a queue by its URL, percent-encoded.
    const encodedDlqUrl = `https%3A%2F%2Fsqs.${this.region}.${this.urlSuffix}%2F${this.account}%2F${notifier.deadLetterQueue.queueName}`;
    new CfnOutput(this, 'DeadLetterQueueConsoleUrl', {
      description: 'Undelivered events; after a fix use "Start DLQ redrive" here',
      value: `https://console.aws.amazon.com/sqs/v3/home?region=${this.region}#/queues/${encodedDlqUrl}`,
    });
    if (notifier.dashboard) {
      new CfnOutput(this, 'DashboardUrl', {
        description: 'The whole flow at a glance',
        value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#dashboards:name=${notifier.dashboard.dashboardName}`,
      });
    } else {
      // No dashboard by default (3 USD a month): the same metrics, in the CloudWatch console's metrics browser.
      new CfnOutput(this, 'MetricsUrl', {
        description: "The notifier's metrics (no dashboard: pass dashboard: true for one)",
        value: `https://console.aws.amazon.com/cloudwatch/home?region=${this.region}#metricsV2?graph=~()&namespace=~'${METRICS_NAMESPACE}`,
      });
    }
  }

  /** The routes of a configuration file, with their secrets (and the Dodo API key's) imported by name or ARN; throws naming the JSON path of a fault. */
  private routesFromFile(file: string): { readonly routes: DodoSlackRoute[]; readonly dodoApiKeySecret?: secretsmanager.ISecret } {
    let parsed;
    try {
      parsed = readNotifierConfig(file);
    } catch (error) {
      if (error instanceof ConfigFileError) throw new Error(`DodoSlackNotifierStack: ${error.message}`, { cause: error });
      throw error;
    }
    for (const warning of parsed.warnings) Annotations.of(this).addWarningV2('dodo-slack-notifier:configWarning', `${file}: ${warning}`);
    const missing = parsed.config.routes
      .map((route, index) => ({ route, index }))
      .filter(({ route }) => route.slackWebhookSecret === undefined && route.slackBotTokenSecret === undefined);
    if (missing.length > 0) {
      throw new Error(
        `DodoSlackNotifierStack: ${file}: invalid configuration:\n${missing
          .map(({ route, index }) => `- routes[${index}]: route "${route.id}" names no Secrets Manager secret for AWS: add "slackWebhookSecret" (or "slackBotTokenSecret" with "slackChannelId" for app mode), by name or complete ARN`)
          .join('\n')}`,
      );
    }
    const keyName = parsed.config.dodoApiKeySecret;
    const dodoApiKeySecret =
      keyName === undefined
        ? undefined
        : COMPLETE_SECRET_ARN.test(keyName)
          ? secretsmanager.Secret.fromSecretCompleteArn(this, 'DodoApiKeySecret', keyName)
          : secretsmanager.Secret.fromSecretNameV2(this, 'DodoApiKeySecret', keyName);
    const routes = parsed.config.routes.map((route): DodoSlackRoute => {
      const secretName = (route.slackWebhookSecret ?? route.slackBotTokenSecret)!;
      const secret = COMPLETE_SECRET_ARN.test(secretName)
        ? secretsmanager.Secret.fromSecretCompleteArn(this, `Route${route.id}Secret`, secretName)
        : secretsmanager.Secret.fromSecretNameV2(this, `Route${route.id}Secret`, secretName);
      return {
        id: route.id,
        events: [...route.events],
        ...(route.slackBotTokenSecret === undefined ? { slackWebhookSecret: secret } : { slackBotTokenSecret: secret }),
        ...(route.slackChannelId === undefined ? {} : { slackChannelId: route.slackChannelId }),
        ...(route.replyBroadcast === undefined ? {} : { replyBroadcast: [...route.replyBroadcast] }),
        ...(route.transformation === undefined ? {} : { transformation: transformationOf(route.transformation) }),
        ...(route.filter === undefined ? {} : { filter: route.filter }),
        ...(route.modes === undefined ? {} : { modes: [...route.modes] }),
        ...(route.mentions === undefined ? {} : { mentions: [...route.mentions] }),
      };
    });
    return dodoApiKeySecret === undefined ? { routes } : { routes, dodoApiKeySecret };
  }

  /** The secret passed as an object, by complete ARN, or by name; at most one of the three. */
  private existingSecret(
    id: string,
    secret: secretsmanager.ISecret | undefined,
    arn: string | undefined,
    name: string | undefined,
  ): secretsmanager.ISecret | undefined {
    const prop = id.charAt(0).toLowerCase() + id.slice(1);
    const given = [secret && prop, arn && `${prop}Arn`, name && `${prop}Name`].filter(Boolean);
    if (given.length > 1) {
      throw new Error(`DodoSlackNotifierStack: set only one of ${given.join(', ')}`);
    }
    if (arn) return secretsmanager.Secret.fromSecretCompleteArn(this, `Existing${id}`, arn);
    if (name) return secretsmanager.Secret.fromSecretNameV2(this, `Existing${id}`, name);
    return secret;
  }

  private secretConsoleUrl(secret: secretsmanager.ISecret): string {
    return `https://console.aws.amazon.com/secretsmanager/secret?name=${secret.secretName}&region=${this.region}`;
  }
}

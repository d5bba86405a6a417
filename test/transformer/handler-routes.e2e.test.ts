/**
 * Routing rules on the Lambda path: the configuration the serve test runs, as the construct hands
 * it to the transformer (one route per file route, each with its own Slack secret), with the queue
 * on the fauxqs SQS emulator and deduplication on dynalite. Each event must reach exactly the routes
 * `dodo-slack routes` names (the same table the serve test checks), once each, redeliveries included.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CreateQueueCommand, DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { toSqsMessage } from '../../lambda/shared/aws/sqs-message';
import { parseNotifierConfig } from '../../lambda/shared/config-file';
import { TransformerEnv, type RouteConfig } from '../../lambda/shared/function-env';
import type { QueuedWebhook } from '../../lambda/shared/webhook';
import { createTransformerHandler } from '../../lambda/transformer/handler';
import { FakeSlack, ok } from '../support/fake-slack';
import { toLambdaEvent } from '../support/delivery';
import { lambdaContext } from '../support/lambda-context';
import { captureOutput } from '../support/capture-output';
import { useAwsEmulators } from '../support/aws-emulators';
import { eventIndexOf, EXPECTED_ROUTES, ROUTING_CONFIG, routingEvents } from '../support/routing-story';

jest.setTimeout(120_000);

const secretArn = (routeId: string) => `arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-${routeId.toLowerCase()}-AbCdEf`;
const slackPath = (routeId: string) => `/services/T123/B456/route-${routeId.toLowerCase()}-token`;

describe('routing rules through the transformer handler over SQS (fauxqs)', () => {
  const slack = new FakeSlack();
  const secretsManager = mockClient(SecretsManagerClient);
  const emulators = useAwsEmulators();
  let restoreOutput: () => void;
  let logged: string[];

  beforeAll(() => slack.start());
  afterAll(() => slack.stop());
  beforeEach(() => {
    slack.requests.length = 0;
    slack.respond = () => ok;
    secretsManager.reset();
    for (const route of ROUTING_CONFIG.routes) {
      secretsManager.on(GetSecretValueCommand, { SecretId: secretArn(route.id) }).callsFake(() => Promise.resolve({ SecretString: slack.url(slackPath(route.id)) }));
    }
    logged = [];
    restoreOutput = captureOutput(logged);
  });
  afterEach(() => {
    restoreOutput();
    expect(logged.join('')).not.toMatch(/route-\w+-token/);
  });

  test('each event reaches exactly the routes the configuration gives it, once, with the mention rule applied', async () => {
    // The file as the construct reads it, each route with its secret's ARN as the construct passes it.
    const { config } = parseNotifierConfig(JSON.stringify(ROUTING_CONFIG), 'dodo-slack.config.json');
    const routes: RouteConfig[] = config.routes.map((route) => ({
      id: route.id,
      events: route.events,
      slackSecretId: secretArn(route.id),
      transformation: { kind: 'builtin', options: {} },
      ...(route.filter === undefined ? {} : { filter: route.filter }),
      ...(route.modes === undefined ? {} : { modes: route.modes }),
      ...(route.mentions === undefined ? {} : { mentions: route.mentions }),
    }));
    const dlqUrl = (await emulators.sqs.send(new CreateQueueCommand({ QueueName: 'routes-dlq' }))).QueueUrl!;
    const queueUrl = (await emulators.sqs.send(new CreateQueueCommand({ QueueName: 'routes', Attributes: { VisibilityTimeout: '360' } }))).QueueUrl!;
    const handler = createTransformerHandler({
      env: {
        [TransformerEnv.Routes]: JSON.stringify(routes),
        [TransformerEnv.QueueUrl]: queueUrl,
        [TransformerEnv.DeadLetterQueueUrl]: dlqUrl,
        [TransformerEnv.MaxReceiveCount]: '10',
        [TransformerEnv.SlackTimeoutMs]: '1000',
        [TransformerEnv.DeliveryRatePerSecond]: '100',
        [TransformerEnv.DeliveryBurst]: '100',
        [TransformerEnv.RollupAfterSeconds]: '0',
        [TransformerEnv.IdempotencyTableName]: await emulators.db.createDeduplicationTable(),
      },
      sqs: emulators.sqs,
      allowInsecureLocalhostSlack: true,
    });

    const events = routingEvents(['live', 'test']);
    const queued: QueuedWebhook[] = events.map((event) => ({
      webhookId: `msg_routes_${event.index}`,
      webhookTimestamp: String(Math.floor(Date.now() / 1000)),
      eventType: event.type,
      body: event.body,
      ...(event.mode === 'test' ? { mode: event.mode } : {}),
    }));
    // Every event twice (SQS's at-least-once, or Dodo resending): still one message per route.
    const sendAll = async (list: readonly QueuedWebhook[]) => {
      for (let i = 0; i < list.length; i += 10) {
        const result = await emulators.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: list.slice(i, i + 10).map((webhook, j) => ({ Id: String(j), ...toSqsMessage(webhook) })) }));
        expect(result.Failed ?? []).toEqual([]);
      }
    };
    await sendAll(queued);
    await sendAll(queued);

    const depth = async () => {
      const attributes = (await emulators.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }))).Attributes ?? {};
      return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
    };
    for (let rounds = 0; rounds < 50; rounds++) {
      const received = await emulators.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 5, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
      const messages = received.Messages ?? [];
      if (messages.length === 0 && (await depth()) === 0) break;
      const response = await handler(toLambdaEvent(messages), lambdaContext());
      expect(response.batchItemFailures).toEqual([]);
      for (const message of messages) await emulators.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
    expect(await depth()).toBe(0);

    const byEvent = new Map<number, string[]>();
    for (const posted of slack.requests) {
      const routeId = ROUTING_CONFIG.routes.find((route) => posted.path === slackPath(route.id))?.id;
      const index = eventIndexOf(posted.body, events.length);
      if (routeId === undefined || index === undefined) throw new Error(`unexpected post to ${posted.path}: ${posted.body.slice(0, 200)}`);
      byEvent.set(index, [...(byEvent.get(index) ?? []), routeId]);
    }
    for (const event of events) expect({ event: event.index, routes: (byEvent.get(event.index) ?? []).sort() }).toEqual({ event: event.index, routes: [...EXPECTED_ROUTES[event.index]].sort() });
    const mentioned = slack.requests.filter((posted) => String(posted.json.text).includes('<!subteam^S0SALES01>'));
    expect(mentioned.map((posted) => [posted.path, eventIndexOf(posted.body, events.length)])).toEqual([[slackPath('Sales'), 2]]);
    const marked = slack.requests.filter((posted) => String(posted.json.text).includes('[TEST]'));
    expect(marked.map((posted) => [posted.path, eventIndexOf(posted.body, events.length)])).toEqual([[slackPath('Europe'), 12]]);
  });
});

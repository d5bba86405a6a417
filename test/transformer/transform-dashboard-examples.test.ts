/**
 * Our dashboard-format example transformations give the same Slack message through the pipeline's
 * transform (bound by the construct's contract, loaded from the embedded-code registry, run in the
 * sandbox) as when their `handler` is called directly, for every Dodo event type.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TransformationError } from '../../lambda/shared/errors';
import { createTransform } from '../../lambda/transformer/transform';
import { REDACTED_SLACK_URL } from '../../lambda/sandbox/runner';
import { userCodeRegistryFrom } from '../../lambda/sandbox/registry';
import { Transformation } from '../../lib/transformation';
import { ALL_EVENT_TYPES, EXAMPLES_DIR, fixtureBody, inputFor } from '../support/transformation';

const DASHBOARD_EXAMPLES = fs.readdirSync(path.join(EXAMPLES_DIR, 'dashboard')).filter((name) => name.endsWith('.js'));

type Webhook = { eventType: string; payload: unknown; method: string; url: string; headers: Record<string, string>; cancel: boolean };

/** The handler as the Dodo dashboard would call it: plain JavaScript, no sandbox. */
function loadHandlerDirectly(source: string): (webhook: Webhook) => Webhook | undefined {
  const quietConsole = { log() {}, info() {}, warn() {}, error() {}, debug() {} };
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the dashboard runs the example as plain JavaScript, and so does this reference
  const load = new Function('console', `${source}\nreturn handler;`) as (console: typeof quietConsole) => (webhook: Webhook) => Webhook | undefined;
  return load(quietConsole);
}

function transformFor(file: string) {
  const bound = Transformation.fromFile(path.join(EXAMPLES_DIR, 'dashboard', file))._bind('route-1');
  return createTransform(bound.spec, userCodeRegistryFrom({ [bound.code!.codeId]: bound.code!.source }));
}

test('there are dashboard examples to check', () => {
  expect(DASHBOARD_EXAMPLES).toEqual(expect.arrayContaining(['sales-feed.js', 'risk-alerts.js', 'subscription-changes.js']));
  expect(ALL_EVENT_TYPES).toHaveLength(48);
});

describe.each(DASHBOARD_EXAMPLES)('%s', (file) => {
  const source = fs.readFileSync(path.join(EXAMPLES_DIR, 'dashboard', file), 'utf8');
  const handler = loadHandlerDirectly(source);
  const transform = transformFor(file);

  test.each(ALL_EVENT_TYPES)('%s: same result as calling handler directly', async (eventType) => {
    const direct = handler({
      eventType,
      payload: JSON.parse(fixtureBody(eventType)),
      method: 'POST',
      url: REDACTED_SLACK_URL,
      headers: { 'webhook-id': 'msg_2Kx8sTest', 'webhook-timestamp': '1773480413' },
      cancel: false,
    })!;
    const outcome = transform(inputFor(eventType));

    if (direct.cancel) {
      await expect(outcome).resolves.toEqual({ kind: 'skip', reason: expect.stringContaining('webhook.cancel = true') as unknown });
    } else if ((direct.payload as { type?: unknown }).type === eventType) {
      // The handler left the Dodo payload untouched: never posted.
      await expect(outcome).rejects.toThrow(new RegExp(`returned the raw Dodo payload for ${eventType.replace('.', '\\.')}`));
    } else {
      await expect(outcome).resolves.toEqual({ kind: 'message', message: direct.payload });
    }
  });
});

test('the examples cover all three outcomes: message, cancel and unhandled type', async () => {
  await expect(transformFor('sales-feed.js')(inputFor('payment.succeeded'))).resolves.toMatchObject({
    kind: 'message',
    message: { text: 'New sale: 29.99 USD from ada@example.com' },
  });
  await expect(transformFor('risk-alerts.js')(inputFor('payment.succeeded'))).resolves.toMatchObject({ kind: 'skip' });
  const unhandled = transformFor('subscription-changes.js')(inputFor('subscription.renewed'));
  await expect(unhandled).rejects.toBeInstanceOf(TransformationError);
  await expect(unhandled).rejects.toThrow(
    'transformation subscription-changes.js returned the raw Dodo payload for subscription.renewed; its switch probably has no case for this event type',
  );
});

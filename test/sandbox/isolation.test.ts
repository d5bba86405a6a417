/**
 * What user code can see and what it keeps between events (documented in docs/transformations.md):
 * no handler state, a fresh webhook per event, its own top-level state kept on a warm instance.
 */
import { createTransformFromSource } from '../../lambda/transformer/transform';
import { REDACTED_SLACK_URL } from '../../lambda/sandbox/runner';
import { inputFor, recordingLogger } from '../support/transformation';

function reporter(expression: string) {
  return createTransformFromSource(`function handler(webhook) { webhook.payload = { text: String(${expression}) }; return webhook; }`, 'probe.js');
}

async function textOf(transform: ReturnType<typeof reporter>, eventType = 'payment.succeeded'): Promise<string> {
  const outcome = await transform(inputFor(eventType));
  if (outcome.kind !== 'message') throw new Error(`expected a message, got ${JSON.stringify(outcome)}`);
  return outcome.message.text;
}

test.each([
  ['typeof require', 'undefined'],
  ['typeof process', 'undefined'],
  ['typeof module', 'undefined'],
  ['typeof setTimeout', 'undefined'],
  ['typeof fetch', 'undefined'],
  ['typeof Buffer', 'undefined'],
  ['typeof Intl.NumberFormat', 'function'],
])('the sandbox sees %s = %s', async (expression, expected) => {
  await expect(textOf(reporter(expression))).resolves.toBe(expected);
});

test('the webhook has the dashboard shape, with a redacted Slack URL and the delivery headers', async () => {
  const transform = reporter('JSON.stringify([webhook.eventType, webhook.method, webhook.url, webhook.headers, webhook.cancel, webhook.payload.type])');
  await expect(textOf(transform)).resolves.toBe(JSON.stringify([
    'payment.succeeded', 'POST', REDACTED_SLACK_URL,
    { 'content-type': 'application/json', 'webhook-id': 'msg_2Kx8sTest', 'webhook-timestamp': '1773480413' },
    false, 'payment.succeeded',
  ]));
});

test('objects in the sandbox do not lead back to the host (no process through constructors)', async () => {
  const transform = reporter("(function () { try { return webhook.constructor.constructor('return typeof process')(); } catch (e) { return 'blocked: ' + e.message; } })()");
  await expect(textOf(transform)).resolves.toMatch(/^blocked: Code generation from strings disallowed/);
});

test('changes one event makes to its webhook are not seen by the next event', async () => {
  const transform = createTransformFromSource(
    `function handler(webhook) {
       var before = webhook.payload.data.customer.email;
       webhook.payload.data.customer.email = 'changed@example.com';
       webhook.headers['x-leak'] = 'yes';
       webhook.payload = { text: before + ' ' + (webhook.headers['x-leak'] === 'yes' && before !== 'changed@example.com') };
       return webhook;
     }`,
    'mutate.js',
  );
  await expect(textOf(transform)).resolves.toBe('ada@example.com true');
  await expect(textOf(transform)).resolves.toBe('ada@example.com true');
});

test('top-level state of the code persists between events on one instance (like module state in Lambda)', async () => {
  const transform = createTransformFromSource(
    'var count = 0; function handler(w) { count += 1; globalThis.lastType = w.eventType; w.payload = { text: String(count) }; return w; }',
    'counter.js',
  );
  await expect(textOf(transform)).resolves.toBe('1');
  await expect(textOf(transform)).resolves.toBe('2');
  expect((globalThis as Record<string, unknown>).lastType).toBeUndefined();
});

test('two transformations do not share state', async () => {
  const source = 'var count = 0; function handler(w) { count += 1; w.payload = { text: String(count) }; return w; }';
  const first = createTransformFromSource(source, 'a.js');
  const second = createTransformFromSource(source, 'b.js');
  await textOf(first);
  await textOf(first);
  await expect(textOf(second)).resolves.toBe('1');
});

test('polluting Object.prototype in the sandbox does not touch the host', async () => {
  const transform = reporter("(Object.prototype.polluted = 'yes', ({}).polluted)");
  await expect(textOf(transform)).resolves.toBe('yes');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

test('replacing JSON or console in user code does not break the harness', async () => {
  const transform = createTransformFromSource(
    "JSON = null; console = null; function handler(w) { w.payload = { text: 'still fine' }; return w; }",
    'clobber.js',
  );
  await expect(textOf(transform)).resolves.toBe('still fine');
});

test('console output goes to the logger with the event type, bounded per event', async () => {
  const logger = recordingLogger();
  const transform = createTransformFromSource(
    "function handler(w) { console.log('seen', w.eventType, { n: 1 }); console.error('oops'); for (var i = 0; i < 30; i++) console.debug(i); w.payload = { text: 'x' }; return w; }",
    'noisy.js',
    { logger },
  );
  await transform(inputFor('refund.succeeded'));
  expect(logger.lines[0]).toEqual({
    level: 'info',
    message: 'transformation console output',
    extra: { transformation: 'noisy.js', eventType: 'refund.succeeded', output: 'seen refund.succeeded {"n":1}' },
  });
  expect(logger.lines[1]).toMatchObject({ level: 'error', extra: { output: 'oops' } });
  expect(logger.lines.filter((line) => line.message === 'transformation console output')).toHaveLength(20);
  expect(logger.lines.at(-1)).toEqual({
    level: 'warn',
    message: 'transformation console output truncated',
    extra: { transformation: 'noisy.js', eventType: 'refund.succeeded', droppedLines: 12 },
  });
});

test('running an event costs well under a millisecond once compiled', async () => {
  const transform = reporter("'sale ' + webhook.payload.data.total_amount");
  const input = inputFor('payment.succeeded');
  for (let i = 0; i < 200; i++) await transform(input);
  const runs = 2000;
  const started = process.hrtime.bigint();
  for (let i = 0; i < runs; i++) await transform(input);
  const microsPerEvent = Number(process.hrtime.bigint() - started) / 1000 / runs;
  // Typically ~25 µs here (two messages to and from the code's worker); generous bound for busy CI.
  expect(microsPerEvent).toBeLessThan(2000);
  await transform.close();
});

test('the code runs outside this thread: a busy handler does not block this thread\'s timers', async () => {
  const transform = createTransformFromSource(
    'function handler(w) { var end = Date.now() + 150; while (Date.now() < end) {} w.payload = { text: "done" }; return w; }',
    'busy.js',
  );
  let ticks = 0;
  const ticker = setInterval(() => { ticks += 1; }, 10);
  try {
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({ kind: 'message', message: { text: 'done' } });
  } finally {
    clearInterval(ticker);
    await transform.close();
  }
  expect(ticks).toBeGreaterThanOrEqual(5);
});

/**
 * Dashboard-style code that throws, loops, returns nothing or returns the raw payload is a
 * TransformationError with a reason an operator can act on, and the next event through the same
 * transform still works.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { TransformationError } from '../../lambda/core/errors';
import { createTransform, createTransformFromSource } from '../../lambda/core/transform';
import { userCodeRegistryFrom } from '../../lambda/core/user-code-registry';
import { inputFor } from './helpers';

/** Misbehaves on payment.failed in the given way, and formats payment.succeeded correctly. */
function codeThatFailsWith(misbehaviour: string): string {
  return `function handler(webhook) {
  if (webhook.eventType === 'payment.failed') {
    ${misbehaviour}
  }
  webhook.payload = { text: 'paid ' + webhook.payload.data.payment_id };
  return webhook;
}`;
}

const GOOD = { kind: 'message', message: { text: 'paid pay_gr4RizvMOXFJ6xca3y2tU' } };

describe.each([
  ['throws', "throw new Error('no customer on ' + webhook.payload.data.payment_id);",
    /^transformation rule\.js threw on payment\.failed: no customer on pay_9KdWq2mXz7LpR4tYb1NcV \(at rule\.js:3\)$/],
  ['throws a non-Error', "throw 'plain string';", /threw on payment\.failed: plain string/],
  ['reads a missing field', 'return webhook.payload.data.customer.address.street;',
    /threw on payment\.failed: Cannot read properties of undefined \(reading 'street'\) \(at rule\.js:3\)/],
  ['loops forever', 'while (true) {}', /^transformation rule\.js timed out after 50 ms on payment\.failed$/],
  ['returns nothing', 'return;', /returned nothing for payment\.failed; a dashboard handler must end with `return webhook`/],
  ['returns the raw payload', 'return webhook;',
    /returned the raw Dodo payload for payment\.failed; its switch probably has no case for this event type/],
  ['returns a new object with the raw payload', 'return { payload: webhook.payload };', /returned the raw Dodo payload for payment\.failed/],
  ['returns an invalid Slack message', "webhook.payload = { blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'x' } }] }; return webhook;",
    /returned an invalid Slack message for payment\.failed: blocks\[0\]\.text\.type must be "plain_text"/],
  ['returns an empty message', 'webhook.payload = {}; return webhook;', /invalid Slack message for payment\.failed: a Slack message needs a non-empty text/],
  ['returns no payload', 'delete webhook.payload; return webhook;', /returned a webhook without a payload for payment\.failed/],
  ['returns a string', "return 'hello';", /returned a string for payment\.failed instead of the webhook object/],
  ['sets the payload to non-JSON text', "webhook.payload = 'hello'; return webhook;", /set webhook\.payload to a string that is not JSON/],
  ['returns a circular object', 'var a = { text: "x" }; a.self = a; webhook.payload = a; return webhook;',
    /returned a value that is not JSON on payment\.failed: .*circular/i],
  ['awaits something that never comes', 'return new Promise(function () {});',
    /returned a promise that never settled on payment\.failed/],
  ['rejects', "return Promise.reject(new Error('async boom'));", /threw on payment\.failed: async boom/],
  ['uses eval', "return eval('1');", /threw on payment\.failed: Code generation from strings disallowed/],
])('code that %s', (_name, misbehaviour, reason) => {
  test('is a TransformationError with a clear reason, and the next event works', async () => {
    const transform = createTransformFromSource(codeThatFailsWith(misbehaviour), 'rule.js', { timeoutMs: 50 });

    const failed = transform(inputFor('payment.failed'));
    await expect(failed).rejects.toBeInstanceOf(TransformationError);
    await expect(failed).rejects.toThrow(reason);

    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
  });
});

test('a reason never contains the payload beyond ids the code itself put in its error', async () => {
  const transform = createTransformFromSource(codeThatFailsWith('return webhook;'), 'rule.js');
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow(expect.objectContaining({
    message: expect.not.stringContaining('ada@example.com'),
  }));
});

/**
 * A timeout inside a promise job aborts Node when async hooks are on (jest and Powertools enable
 * them through AsyncLocalStorage): nodejs/node#38503. So this case runs in a plain child process,
 * and docs/transformations.md tells users to keep handlers synchronous.
 */
test('an endless loop in a promise job times out (in a process without async hooks)', () => {
  const script = `
    const { createTransformFromSource } = require('./lambda/core/transform');
    const { inputFor } = require('./test/transformation/helpers');
    const t = createTransformFromSource(${JSON.stringify(codeThatFailsWith('return Promise.resolve().then(function () { while (true) {} });'))}, 'rule.js', { timeoutMs: 50 });
    (async () => {
      const failed = await t(inputFor('payment.failed')).then(() => 'no error', (e) => e.message);
      const next = await t(inputFor('payment.succeeded'));
      process.stdout.write(JSON.stringify({ failed, next }));
    })();`;
  const child = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: path.join(__dirname, '..', '..'),
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(child.stderr).toBe('');
  expect(JSON.parse(child.stdout)).toEqual({ failed: 'transformation rule.js timed out after 50 ms on payment.failed', next: GOOD });
});

describe('skipping', () => {
  test('webhook.cancel = true skips the event', async () => {
    const transform = createTransformFromSource('function handler(w) { w.cancel = true; return w; }', 'skip.js');
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({
      kind: 'skip',
      reason: 'transformation skip.js set webhook.cancel = true for payment.succeeded',
    });
  });

  test('returning null skips the event', async () => {
    const transform = createTransformFromSource('function handler() { return null; }', 'skip.js');
    await expect(transform(inputFor('dispute.opened'))).resolves.toEqual({ kind: 'skip', reason: 'transformation skip.js returned null for dispute.opened' });
  });

  test('an async handler that resolves is awaited', async () => {
    const transform = createTransformFromSource(
      "async function handler(w) { var t = await Promise.resolve('async ok'); w.payload = { text: t }; return w; }", 'async.js');
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({ kind: 'message', message: { text: 'async ok' } });
  });

  test('a payload set as JSON text is accepted like an object', async () => {
    const transform = createTransformFromSource("function handler(w) { w.payload = JSON.stringify({ text: 'json' }); return w; }", 'json.js');
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({ kind: 'message', message: { text: 'json' } });
  });
});

describe('createTransform with a code spec', () => {
  test('code missing from the bundle is a TransformationError per event, not a crash', async () => {
    const transform = createTransform({ kind: 'code', codeId: 'ghost', timeoutMs: 1000 }, userCodeRegistryFrom({}));
    await expect(transform(inputFor('payment.succeeded'))).rejects.toThrow(
      new TransformationError('user code "ghost" is not embedded in this transformer bundle (redeploy the stack)'),
    );
  });

  test('code that fails to load is a TransformationError naming the load problem', async () => {
    const transform = createTransform({ kind: 'code', codeId: 'r', timeoutMs: 1000 }, userCodeRegistryFrom({ r: 'var handler = 1;' }));
    await expect(transform(inputFor('payment.succeeded'))).rejects.toThrow(/user code "r" could not be loaded: r: no function named "handler" \(found a number\)/);
  });

  test('runtime reasons name the original file and line through its sourceURL', async () => {
    const source = 'function handler(w) {\n  throw new Error("nope");\n}\n//# sourceURL=orders.js\n';
    const transform = createTransform({ kind: 'code', codeId: 'r', timeoutMs: 1000 }, userCodeRegistryFrom({ r: source }));
    await expect(transform(inputFor('payment.succeeded'))).rejects.toThrow('transformation orders.js threw on payment.succeeded: nope (at orders.js:2)');
  });
});

describe('builtin spec', () => {
  test('renders a valid message for every fixture', async () => {
    const transform = createTransform({ kind: 'builtin', options: {} });
    const outcome = await transform(inputFor('payment.succeeded'));
    expect(outcome.kind).toBe('message');
  });
});

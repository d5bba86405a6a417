/**
 * Dashboard-style code that throws, loops, returns nothing or returns the raw payload is a
 * TransformationError with a reason an operator can act on, and the next event through the same
 * transform still works.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { TransformationError, TransformationUnavailableError } from '../../lambda/shared/errors';
import { createTransform, createTransformFromSource } from '../../lambda/transformer/transform';
import { USER_CODE_WORKER_HEAP_MB } from '../../lambda/sandbox/harness';
import { USER_CODE_MEMORY_GROWTH_MB } from '../../lambda/sandbox/runner';
import { userCodeRegistryFrom } from '../../lambda/sandbox/registry';
import { inputFor } from '../support/transformation';

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
    // Only the cases about the time limit get a short one: under a loaded CI machine, a 50 ms limit
    // also cut off code that merely throws, before it could.
    const timeoutMs = /timed out|never settled/.test(reason.source) ? 50 : 5_000;
    const transform = createTransformFromSource(codeThatFailsWith(misbehaviour), 'rule.js', { timeoutMs });

    const failed = transform(inputFor('payment.failed'));
    await expect(failed).rejects.toBeInstanceOf(TransformationError);
    await expect(failed).rejects.toThrow(reason);

    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
  });
});

test('a reason never contains the payload beyond ids the code itself put in its error', async () => {
  const transform = createTransformFromSource(codeThatFailsWith('return webhook;'), 'rule.js');
  // jest's toThrow takes an asymmetric matcher; @types/jest's signature does not list one, hence the cast.
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow(expect.objectContaining({
    message: expect.not.stringContaining('ada@example.com') as unknown,
  }) as Error);
});

/**
 * An endless loop inside a promise job used to abort the whole process when the vm timeout fired
 * with async hooks on (nodejs/node#38503; Powertools' AsyncLocalStorage turns them on in the
 * Lambda). The code now runs in a worker that is terminated instead, so these run in-process,
 * inside an AsyncLocalStorage context like the transformer's.
 */
describe.each([
  ['loops forever after an await', 'return (async function () { await null; while (true) {} })();'],
  ['loops forever in a promise job', 'return Promise.resolve().then(function () { while (true) {} });'],
  ['queues an endless chain of promise jobs', 'var spin = function () { return Promise.resolve().then(spin); }; spin(); return webhook;'],
  ['loops forever in a getter read while its error is described', 'throw { get message() { while (true) {} } };'],
])('code that %s', (_name, misbehaviour) => {
  test('times out with a clear reason inside AsyncLocalStorage, and the next event works', async () => {
    const storage = new AsyncLocalStorage<string>();
    const transform = createTransformFromSource(codeThatFailsWith(misbehaviour), 'rule.js', { timeoutMs: 50 });
    await storage.run('batch', async () => {
      await expect(transform(inputFor('payment.failed'))).rejects.toThrow(
        new TransformationError('transformation rule.js timed out after 50 ms on payment.failed'),
      );
      await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
      expect(storage.getStore()).toBe('batch');
    });
    await transform.close();
  });
});

test('an async handler defined with async function and an endless loop after await times out', async () => {
  const transform = createTransformFromSource('async function handler(w) { await null; while (true) {} }', 'spin.js', { timeoutMs: 50 });
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow('transformation spin.js timed out after 50 ms on payment.failed');
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow('timed out after 50 ms');
  await transform.close();
});

test('a runaway allocation ends only the sandbox: a clear reason, and the next event works', async () => {
  const transform = createTransformFromSource(
    codeThatFailsWith('var hoard = []; while (true) hoard.push(new Array(100000).fill(hoard.length));'),
    'hoarder.js',
    { timeoutMs: 10_000 },
  );
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow(
    new TransformationError(`transformation hoarder.js crashed on payment.failed: ran out of memory (the sandbox has ${USER_CODE_WORKER_HEAP_MB} MB)`),
  );
  await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
  await transform.close();
});

/**
 * The worker's heap limit does not cover memory outside the V8 heap: without a bound, these filled
 * gigabytes within the default 1 s limit and a 512 MB transformer was killed with its whole batch.
 * (Bounded loops, so a regression fails the test instead of exhausting the machine.)
 */
describe.each([
  ['fills typed arrays', 'var held = []; for (var i = 0; i < 100; i++) held.push(new Uint8Array(10 * 1024 * 1024).fill(1)); webhook.payload = { text: String(held.length) }; return webhook;'],
  ['hoards Intl objects', "var held = []; for (var i = 0; i < 1000000; i++) held.push(new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', month: 'long' })); webhook.payload = { text: String(held.length) }; return webhook;"],
])('code that %s outside its heap', (_name, misbehaviour) => {
  test('ends with a clear out-of-memory reason before the function runs out, and the next event works', async () => {
    const transform = createTransformFromSource(codeThatFailsWith(misbehaviour), 'offheap.js', { timeoutMs: 20_000 });
    await expect(transform(inputFor('payment.failed'))).rejects.toThrow(
      new TransformationError(
        `transformation offheap.js crashed on payment.failed: ran out of memory (it grew the function's memory by more than ${USER_CODE_MEMORY_GROWTH_MB} MB; typed arrays and Intl objects count too)`,
      ),
    );
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
    await transform.close();
  });
});

test('events sent at once run one after another, each with its own time limit', async () => {
  const transform = createTransformFromSource(codeThatFailsWith('while (true) {}'), 'rule.js', { timeoutMs: 100 });
  const results = await Promise.allSettled([
    transform(inputFor('payment.succeeded')),
    transform(inputFor('payment.failed')),
    transform(inputFor('payment.succeeded')),
    transform(inputFor('payment.succeeded')),
  ]);
  expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message))).toEqual([
    GOOD, 'transformation rule.js timed out after 100 ms on payment.failed', GOOD, GOOD,
  ]);
  await transform.close();
});

test('after a timeout the code starts afresh: its top-level state resets, like a cold start', async () => {
  const transform = createTransformFromSource(
    "var count = 0; function handler(w) { count += 1; if (w.eventType === 'payment.failed') while (true) {} w.payload = { text: String(count) }; return w; }",
    'counter.js',
    { timeoutMs: 50 },
  );
  await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({ kind: 'message', message: { text: '1' } });
  await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({ kind: 'message', message: { text: '2' } });
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow('timed out');
  await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({ kind: 'message', message: { text: '1' } });
  await transform.close();
});

test('a closed transform reports every later event as an error instead of starting a worker', async () => {
  const transform = createTransformFromSource(codeThatFailsWith(''), 'rule.js');
  await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
  await transform.close();
  await expect(transform(inputFor('payment.succeeded'))).rejects.toThrow(
    new TransformationError('transformation rule.js crashed on payment.succeeded: the transformation runner was closed'),
  );
});

test('code whose top level fails when its worker is restarted makes that event an error with the load problem', async () => {
  // Top-level code that depends on the clock loads the first time and throws after the deadline.
  // On a busy machine the first load may itself come after a short deadline: then try a longer one.
  let deadline = 0;
  let transform: ReturnType<typeof createTransformFromSource> | undefined;
  for (let marginMs = 200; transform === undefined; marginMs *= 2) {
    deadline = Date.now() + marginMs;
    try {
      transform = createTransformFromSource(`if (Date.now() > ${deadline}) throw new Error('expired');\n${codeThatFailsWith('while (true) {}')}`, 'clock.js', { timeoutMs: 50 });
    } catch (error) {
      if (!String(error).includes('expired') || marginMs > 30_000) throw error;
    }
  }
  await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now() + 10)));
  await expect(transform(inputFor('payment.failed'))).rejects.toThrow('timed out after 50 ms');
  await expect(transform(inputFor('payment.succeeded'))).rejects.toThrow(
    new TransformationError('transformation clock.js crashed on payment.succeeded: could not be restarted: clock.js:1: top-level code threw: expired'),
  );
  await transform.close();
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

describe('dashboard code shapes that the dashboard posts', () => {
  test('adding the message to the Dodo body in place posts the message alone (Slack ignores the other fields)', async () => {
    const transform = createTransformFromSource(
      "function handler(webhook) { webhook.payload.text = 'paid ' + webhook.payload.data.payment_id; return webhook; }",
      'inplace.js',
    );
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
  });

  test('blocks added in place are posted too, and an invalid one is still refused', async () => {
    const transform = createTransformFromSource(
      "function handler(w) { w.payload.blocks = [{ type: 'section', text: { type: w.eventType === 'payment.failed' ? 'bad' : 'mrkdwn', text: 'x' } }]; return w; }",
      'inplace.js',
    );
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual({
      kind: 'message',
      message: { blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x' } }] },
    });
    await expect(transform(inputFor('payment.failed'))).rejects.toThrow(/returned an invalid Slack message for payment\.failed/);
  });

  test('a fresh object with a payload is taken like the webhook', async () => {
    const transform = createTransformFromSource(
      "function handler(w) { return { eventType: w.eventType, payload: { text: 'paid ' + w.payload.data.payment_id } }; }",
      'fresh.js',
    );
    await expect(transform(inputFor('payment.succeeded'))).resolves.toEqual(GOOD);
  });
});

describe('createTransform with a code spec', () => {
  test('code missing from the bundle is a TransformationError per event, not a crash', async () => {
    const transform = createTransform({ kind: 'code', codeId: 'ghost', timeoutMs: 1000 }, userCodeRegistryFrom({}));
    await expect(transform(inputFor('payment.succeeded'))).rejects.toThrow(
      new TransformationError('user code "ghost" is not embedded in this transformer bundle (redeploy the stack)'),
    );
  });

  test('code that fails to load is unavailable (retried, see transform-reload.test.ts), naming the load problem', async () => {
    const transform = createTransform({ kind: 'code', codeId: 'r', timeoutMs: 1000 }, userCodeRegistryFrom({ r: 'var handler = 1;' }));
    const result = transform(inputFor('payment.succeeded'));
    await expect(result).rejects.toBeInstanceOf(TransformationUnavailableError);
    await expect(result).rejects.toThrow(/user code "r" could not be loaded in this instance \(retrying\): r: no function named "handler" \(found a number\)/);
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

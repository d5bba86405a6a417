import { createLocalQueue, type LocalDeadLetter } from './memory-queue';
import type { DeliveryProcessor, DeliveryRecord, RecordOutcome } from '../../lambda/transformer/delivery';
import { answer, FakeSlack, ok } from './fake-slack';
import { createLocalDeliveryProcessor } from '../../lambda/local/delivery';
import { route, textTransform, webhook } from './delivery';

/** A processor that answers from a script, recording what it saw. */
function scriptedProcessor(decide: (record: DeliveryRecord) => RecordOutcome, delayMs = 0) {
  const seen: DeliveryRecord[] = [];
  const processor: DeliveryProcessor = {
    async processBatch(records) {
      seen.push(...records);
      if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
      return new Map(records.map((record) => [record.id, decide(record)]));
    },
  };
  return { processor, seen };
}

describe('local queue', () => {
  it('drains through the real policy: a 503 is retried after the (fixed) retry delay, then delivered', async () => {
    const slack = await new FakeSlack().start();
    try {
      slack.respond = (_r, index) => (index === 0 ? answer(503, 'busy') : ok);
      const processor = createLocalDeliveryProcessor({
        routes: [{ config: route('default', () => '').config, transform: textTransform, loadSlackUrl: () => slack.url() }],
        maxAttempts: 3,
        ratePerSecond: 100,
      });
      const deadLetters: LocalDeadLetter[] = [];
      const queue = createLocalQueue({ processor, maxAttempts: 3, onDeadLetter: (d) => deadLetters.push(d), retryDelayMs: 50 });
      const started = Date.now();
      queue.enqueue(webhook());
      await queue.drain();
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      expect(slack.requests).toHaveLength(2);
      expect(slack.delivered()).toHaveLength(1);
      expect(deadLetters).toEqual([]);
      expect(queue.size).toBe(0);
    } finally {
      await slack.stop();
    }
  });

  it('dead-letters with the policy reason, and like the SQS redrive policy after maxAttempts retries', async () => {
    const { processor } = scriptedProcessor((record) =>
      record.webhook.eventType === 'refund.succeeded'
        ? { kind: 'dead-letter', reason: 'Slack answered 400 invalid_payload', attempts: record.receiveCount, lastSlackResponse: '400 invalid_payload', routeId: 'default' }
        : { kind: 'retry', delaySeconds: 0, reason: 'busy' },
    );
    const deadLetters: LocalDeadLetter[] = [];
    const queue = createLocalQueue({ processor, maxAttempts: 3, onDeadLetter: (d) => deadLetters.push(d) });
    const refund = webhook('refund.succeeded');
    const payment = webhook('payment.succeeded');
    queue.enqueue(refund);
    queue.enqueue(payment);
    await queue.drain();
    expect(deadLetters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ webhookId: refund.webhookId, type: 'refund.succeeded', reason: 'Slack answered 400 invalid_payload', attempts: 1, lastSlackResponse: '400 invalid_payload', body: refund.body }),
        expect.objectContaining({ webhookId: payment.webhookId, reason: 'exceeded 3 receives: busy', attempts: 3 }),
      ]),
    );
  });

  it('a requeued record starts its receive count again; delays are scaled', async () => {
    const { processor, seen } = scriptedProcessor((record) =>
      seen.filter((r) => r.id === record.id).length < 3 ? { kind: 'requeue', delaySeconds: 10, reason: 'not attempted' } : { kind: 'done', routes: [] },
    );
    const queue = createLocalQueue({ processor, maxAttempts: 1, onDeadLetter: () => undefined, delayScale: 2 });
    queue.enqueue(webhook());
    await queue.drain();
    expect(seen.map((r) => r.receiveCount)).toEqual([1, 1, 1]);
  });

  it('close() waits for the batch in flight, stops, and reports what was left', async () => {
    const { processor, seen } = scriptedProcessor(() => ({ kind: 'done', routes: [] }), 50);
    const queue = createLocalQueue({ processor, maxAttempts: 3, onDeadLetter: () => undefined, batchSize: 2 });
    for (let n = 0; n < 5; n++) queue.enqueue(webhook());
    await new Promise((resolve) => setTimeout(resolve, 10));
    const left = await queue.close();
    expect(seen).toHaveLength(2);
    expect(left).toBe(3);
    expect(() => queue.enqueue(webhook())).toThrow(/closed/);
  });

  it('drain() after close() resolves instead of waiting for messages nothing will run', async () => {
    const { processor } = scriptedProcessor(() => ({ kind: 'retry', delaySeconds: 3600, reason: 'busy' }));
    const queue = createLocalQueue({ processor, maxAttempts: 3, onDeadLetter: () => undefined });
    queue.enqueue(webhook());
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await queue.close()).toBe(1);
    await expect(Promise.race([queue.drain().then(() => 'drained'), new Promise((resolve) => setTimeout(() => resolve('hung'), 500))])).resolves.toBe('drained');
  });
});

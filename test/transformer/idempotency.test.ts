import { createIdempotentRunOnce } from '../../lambda/transformer/idempotency';
import { MemoryPersistenceLayer } from '../support/memory-persistence';
import { MetricName } from '../../lambda/shared/metrics';
import { DeliveryInProgressError } from '../../lambda/transformer/delivery';
import { answer, ok, useFakeSlack } from '../support/fake-slack';
import { processorFor, route, webhook } from '../support/delivery';

describe('deduplication on webhook-id (Powertools idempotency over the in-memory persistence layer)', () => {
  const slack = useFakeSlack();
  afterEach(() => jest.restoreAllMocks());

  it('the same webhook-id twice (Dodo resend, or SQS at-least-once) posts once', async () => {
    const { processor, recorder } = processorFor([route('default', () => slack.url())]);
    const event = webhook();
    const sameBatch = await processor.processBatch([
      { id: 'a', webhook: event, receiveCount: 1 },
      { id: 'b', webhook: { ...event }, receiveCount: 1 },
    ]);
    const laterBatch = await processor.processBatch([{ id: 'c', webhook: { ...event }, receiveCount: 1 }]);
    expect(slack.requests).toHaveLength(1);
    expect(sameBatch.get('a')).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'delivered' }] });
    expect(sameBatch.get('b')).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'duplicate' }] });
    expect(laterBatch.get('c')).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'duplicate' }] });
    expect(recorder.metric(MetricName.DuplicateSuppressed)).toBe(2);
  });

  it('a failed attempt leaves no record: the retry posts', async () => {
    slack.respond = (_r, index) => (index === 0 ? answer(500, 'oops') : ok);
    const { processor, persistence } = processorFor([route('default', () => slack.url())]);
    const event = webhook();
    expect((await processor.processBatch([{ id: 'r', webhook: event, receiveCount: 1 }])).get('r')).toMatchObject({ kind: 'retry' });
    expect(persistence.size).toBe(0);
    expect((await processor.processBatch([{ id: 'r', webhook: event, receiveCount: 2 }])).get('r')).toMatchObject({ kind: 'done' });
    expect(slack.delivered()).toHaveLength(1);
  });

  it('a dead-lettered message is delivered by its redrive after the fix', async () => {
    slack.respond = () => answer(400, 'invalid_payload');
    const { processor } = processorFor([route('default', () => slack.url())]);
    const event = webhook();
    expect((await processor.processBatch([{ id: 'r', webhook: event, receiveCount: 1 }])).get('r')).toMatchObject({ kind: 'dead-letter' });
    slack.respond = () => ok;
    // A redriven message starts again at receive count 1.
    expect((await processor.processBatch([{ id: 'r2', webhook: event, receiveCount: 1 }])).get('r2')).toEqual({
      kind: 'done',
      routes: [{ routeId: 'default', result: 'delivered' }],
    });
  });

  it('records expire after the deduplication window', async () => {
    const persistence = new MemoryPersistenceLayer();
    const { runOnce } = createIdempotentRunOnce({ persistenceStore: persistence, expiresAfterSeconds: 60, inProgressTimeoutMs: 1000 });
    const work = jest.fn(() => Promise.resolve('delivered' as const));
    await runOnce('default:msg_1', work);
    expect(await runOnce('default:msg_1', work)).toEqual({ value: 'delivered', duplicate: true });
    const realNow = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(realNow + 61_000);
    expect(await runOnce('default:msg_1', work)).toEqual({ value: 'delivered', duplicate: false });
    expect(work).toHaveBeenCalledTimes(2);
  });

  it('a delivery killed mid-flight (Lambda timeout) blocks its key only until the invocation would have ended', async () => {
    const persistence = new MemoryPersistenceLayer();
    const dedup = createIdempotentRunOnce({ persistenceStore: persistence, expiresAfterSeconds: 172_800 });
    dedup.registerContext({ getRemainingTimeInMillis: () => 5_000 });
    // Never settles: the invocation dies with the record INPROGRESS.
    void dedup.runOnce('default:msg_2', () => new Promise(() => {}));
    await new Promise((resolve) => setImmediate(resolve));
    await expect(dedup.runOnce('default:msg_2', () => Promise.resolve('delivered'))).rejects.toBeInstanceOf(DeliveryInProgressError);
    const realNow = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(realNow + 6_000);
    await expect(dedup.runOnce('default:msg_2', () => Promise.resolve('delivered'))).resolves.toEqual({ value: 'delivered', duplicate: false });
  });

  it('a webhook in progress elsewhere comes back later without counting as a failure', async () => {
    const { processor } = processorFor([route('default', () => slack.url())], {
      runOnce: () => Promise.reject(new DeliveryInProgressError('busy')),
      deferDelaySeconds: 20,
    });
    const outcomes = await processor.processBatch([
      { id: 'a', webhook: webhook(), receiveCount: 1 },
      { id: 'b', webhook: webhook(), receiveCount: 3 },
    ]);
    expect(outcomes.get('a')).toEqual({ kind: 'retry', delaySeconds: 20, reason: 'another consumer is delivering this webhook' });
    expect(outcomes.get('b')).toEqual({ kind: 'requeue', delaySeconds: 20, reason: 'another consumer is delivering this webhook' });
  });

  it('the store failing to complete a delivered record does not retry it (no second post)', async () => {
    class CompleteFails extends MemoryPersistenceLayer {
      protected override _updateRecord(): Promise<void> {
        return Promise.reject(new Error('DynamoDB throttled'));
      }
    }
    const { processor, recorder } = processorFor([route('default', () => slack.url())], {
      runOnce: createIdempotentRunOnce({ persistenceStore: new CompleteFails(), expiresAfterSeconds: 3600, inProgressTimeoutMs: 10_000 }).runOnce,
    });
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 1 }]);
    expect(outcomes.get('r')).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'delivered' }] });
    expect(slack.requests).toHaveLength(1);
    expect(recorder.metric(MetricName.DeliveryRetried)).toBe(0);
  });

  it('the store failing to remove a failed attempt keeps the attempt\'s own outcome (a 429 still stops the batch)', async () => {
    class DeleteFails extends MemoryPersistenceLayer {
      protected override _deleteRecord(): Promise<void> {
        return Promise.reject(new Error('DynamoDB unavailable'));
      }
    }
    slack.respond = () => answer(429, 'rate_limited', { 'retry-after': '9' });
    const { processor } = processorFor([route('default', () => slack.url())], {
      runOnce: createIdempotentRunOnce({ persistenceStore: new DeleteFails(), expiresAfterSeconds: 3600, inProgressTimeoutMs: 10_000 }).runOnce,
    });
    const outcomes = await processor.processBatch([
      { id: 'a', webhook: webhook(), receiveCount: 1 },
      { id: 'b', webhook: webhook(), receiveCount: 1 },
    ]);
    expect(outcomes.get('a')).toEqual({ kind: 'retry', delaySeconds: 9, reason: 'Slack rate limit (429), retry after 9 s' });
    expect(outcomes.get('b')).toMatchObject({ kind: 'retry', delaySeconds: 9, reason: 'not attempted: Slack rate-limited this batch' });
    expect(slack.requests).toHaveLength(1);
  });
});

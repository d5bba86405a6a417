import { MetricName } from '../../lambda/shared/metrics';
import { type Transform } from '../../lambda/shared/transformation';
import { TransformationError, TransformationUnavailableError } from '../../lambda/shared/errors';
import { answer, ok, useFakeSlack, type SlackScript } from '../support/fake-slack';
import { processorFor, route, webhook } from '../support/delivery';

/** The README's delivery table ("What the transformer does with each event"), one row at a time, against a real HTTP server on 127.0.0.1. */
describe('delivery table against a real Slack stand-in', () => {
  const slack = useFakeSlack();

  const scripted = (...scripts: SlackScript[]) => {
    slack.respond = (_request, index) => scripts[Math.min(index, scripts.length - 1)];
  };

  async function deliverOne(receiveCount = 1, secret = () => slack.url()) {
    const { processor, recorder, persistence } = processorFor([route('default', secret)]);
    const event = webhook();
    const outcomes = await processor.processBatch([{ id: 'r1', webhook: event, receiveCount }]);
    expect(recorder.text()).not.toContain('secret-token');
    return { outcome: outcomes.get('r1')!, recorder, persistence, event };
  }

  it('200 ok: delivered, with the delivery latency measured from the webhook timestamp', async () => {
    const { outcome, recorder, persistence } = await deliverOne();
    expect(outcome).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'delivered' }] });
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0].json.text).toMatch(/^payment\.succeeded msg_/);
    expect(recorder.metric(MetricName.MessageDelivered)).toBe(1);
    const latency = recorder.timings.find((t) => t.name === MetricName.DeliveryLatency)!;
    expect(latency.value).toBeGreaterThanOrEqual(1000);
    expect(persistence.size).toBe(1);
  });

  it.each([
    ['500', answer(500, 'internal_error'), /500 internal_error/],
    ['503', answer(503, 'service_unavailable'), /503 service_unavailable/],
    ['slow beyond the timeout', { kind: 'slow', delayMs: 1500 } satisfies SlackScript, /timeout after 300 ms/],
    ['connection reset', { kind: 'reset' } satisfies SlackScript, /network error/],
  ])('%s: retried with growing backoff, no dedup record kept, dead-lettered at maxReceiveCount', async (_name, script, reason) => {
    scripted(script);
    const first = await deliverOne(1);
    expect(first.outcome).toEqual({ kind: 'retry', delaySeconds: 30, reason: expect.stringMatching(reason) as unknown });
    expect(first.persistence.size).toBe(0);
    const second = await deliverOne(2);
    expect(second.outcome).toMatchObject({ kind: 'retry', delaySeconds: 60 });
    const last = await deliverOne(3);
    expect(last.outcome).toEqual({
      kind: 'dead-letter',
      reason: expect.stringMatching(reason) as unknown,
      attempts: 3,
      routeId: 'default',
      lastSlackResponse: expect.stringMatching(reason) as unknown,
    });
    expect(last.recorder.metric(MetricName.MessageDeadLettered)).toBe(1);
  });

  it('backoff is capped at 15 minutes', async () => {
    scripted(answer(500, 'internal_error'));
    const { processor } = processorFor([route('default', () => slack.url())], { maxReceiveCount: 100 });
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 9 }]);
    expect(outcomes.get('r')).toMatchObject({ kind: 'retry', delaySeconds: 900 });
  });

  it('429: the record comes back after Retry-After, the rest of the batch is not attempted', async () => {
    scripted(ok, answer(429, 'rate_limited', { 'retry-after': '7' }), ok);
    const { processor, recorder } = processorFor([route('default', () => slack.url())]);
    const records = [1, 2, 3, 4].map((n) => ({ id: `r${n}`, webhook: webhook(), receiveCount: 1 }));
    const outcomes = await processor.processBatch(records);
    expect(slack.requests).toHaveLength(2);
    expect(outcomes.get('r1')).toMatchObject({ kind: 'done' });
    expect(outcomes.get('r2')).toEqual({ kind: 'retry', delaySeconds: 7, reason: 'Slack rate limit (429), retry after 7 s' });
    expect(outcomes.get('r3')).toEqual({ kind: 'retry', delaySeconds: 7, reason: 'not attempted: Slack rate-limited this batch' });
    expect(outcomes.get('r4')).toMatchObject({ kind: 'retry', delaySeconds: 7 });
    expect(recorder.metric(MetricName.SlackRateLimited)).toBe(1);
  });

  it('429 or no turn at the last receive: a fresh re-queue, not a reasonless dead letter', async () => {
    scripted(answer(429, 'rate_limited', { 'retry-after': '3' }));
    const { processor } = processorFor([route('default', () => slack.url())]);
    const outcomes = await processor.processBatch([
      { id: 'a', webhook: webhook(), receiveCount: 3 },
      { id: 'b', webhook: webhook(), receiveCount: 3 },
    ]);
    expect(outcomes.get('a')).toMatchObject({ kind: 'requeue', delaySeconds: 3 });
    expect(outcomes.get('b')).toMatchObject({ kind: 'requeue', delaySeconds: 3 });
  });

  it('not enough Lambda time left: the record is not started and comes back without counting as a failure', async () => {
    const { processor } = processorFor([route('default', () => slack.url())], { reserveTimeMs: 5000 });
    let remaining = 10_000;
    const records = [1, 2].map((n) => ({ id: `r${n}`, webhook: webhook(), receiveCount: 1 }));
    slack.respond = () => {
      remaining = 1000;
      return ok;
    };
    const outcomes = await processor.processBatch(records, { remainingTimeMs: () => remaining });
    expect(outcomes.get('r1')).toMatchObject({ kind: 'done' });
    expect(outcomes.get('r2')).toEqual({ kind: 'retry', delaySeconds: 0, reason: 'not attempted: not enough time left in this invocation' });
    expect(slack.requests).toHaveLength(1);
  });

  it('a 429 pause longer than the invocation has left: later records are deferred by the pause, not slept on until Lambda kills the batch', async () => {
    scripted(answer(429, 'rate_limited', { 'retry-after': '120' }), ok);
    const { processor } = processorFor([route('default', () => slack.url())], { reserveTimeMs: 7000 });
    const remainingTimeMs = () => 60_000;
    const first = await processor.processBatch([{ id: 'a', webhook: webhook(), receiveCount: 1 }], { remainingTimeMs });
    expect(first.get('a')).toMatchObject({ kind: 'retry', delaySeconds: 120 });
    // The next invocation of the same instance, other messages: Slack asked for 120 s, 53 s are usable.
    const started = Date.now();
    const next = await processor.processBatch(
      [
        { id: 'b', webhook: webhook(), receiveCount: 1 },
        { id: 'c', webhook: webhook(), receiveCount: 3 },
      ],
      { remainingTimeMs },
    );
    expect(Date.now() - started).toBeLessThan(1000);
    expect(next.get('b')).toEqual({ kind: 'retry', delaySeconds: 120, reason: 'not attempted: Slack pacing waits 120 s, beyond this invocation' });
    expect(next.get('c')).toMatchObject({ kind: 'requeue', delaySeconds: 120 });
    expect(slack.requests).toHaveLength(1);
  }, 10_000);

  it.each([
    [404, 'channel_not_found'],
    [410, 'channel_is_archived'],
    [403, 'action_prohibited'],
  ])('%i %s: secret refetched; unchanged URL goes straight to the DLQ with the reason', async (status, body) => {
    scripted(answer(status, body));
    let loads = 0;
    const { outcome } = await deliverOne(1, () => {
      loads += 1;
      return slack.url();
    });
    expect(loads).toBe(2);
    expect(slack.requests).toHaveLength(1);
    expect(outcome).toEqual({
      kind: 'dead-letter',
      reason: `Slack answered ${status} ${body} (the Slack secret has not changed)`,
      attempts: 1,
      routeId: 'default',
      lastSlackResponse: `${status} ${body}`,
    });
  });

  it('404 then a rotated URL that also fails: one retry only, then the DLQ', async () => {
    scripted(answer(404, 'channel_not_found'), answer(410, 'channel_is_archived'));
    let secret = slack.url('/services/old/secret-token');
    const { processor } = processorFor([
      route('default', () => {
        const current = secret;
        secret = slack.url('/services/new/secret-token');
        return current;
      }),
    ]);
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 1 }]);
    expect(slack.requests.map((r) => r.path)).toEqual(['/services/old/secret-token', '/services/new/secret-token']);
    expect(outcomes.get('r')).toMatchObject({ kind: 'dead-letter', reason: 'Slack answered 410 channel_is_archived', lastSlackResponse: '410 channel_is_archived' });
  });

  it('400 invalid_payload and other 4xx: straight to the DLQ, counted as a transformation error', async () => {
    scripted(answer(400, 'invalid_payload'));
    const first = await deliverOne(1);
    expect(first.outcome).toMatchObject({ kind: 'dead-letter', reason: 'Slack answered 400 invalid_payload', attempts: 1, lastSlackResponse: '400 invalid_payload' });
    expect(first.recorder.metric(MetricName.TransformationError)).toBe(1);
    expect(first.persistence.size).toBe(0);
    scripted(answer(400, 'no_text'));
    expect((await deliverOne(1)).outcome).toMatchObject({ kind: 'dead-letter', reason: 'Slack answered 400 no_text' });
  });

  it('transformation error: straight to the DLQ with the reason, nothing posted', async () => {
    const failing = route('default', () => slack.url(), {
      transform: () => Promise.reject(new TransformationError('handler returned a number, not a Slack message')),
    });
    const { processor, recorder } = processorFor([failing]);
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 1 }]);
    expect(outcomes.get('r')).toEqual({
      kind: 'dead-letter',
      reason: 'transformation failed: handler returned a number, not a Slack message',
      attempts: 1,
      routeId: 'default',
    });
    expect(recorder.metric(MetricName.TransformationError)).toBe(1);
    expect(slack.requests).toHaveLength(0);
  });

  it('skip: done without posting, counted as skipped, and remembered', async () => {
    const skipping = route('default', () => slack.url(), { transform: () => Promise.resolve({ kind: 'skip', reason: 'webhook.cancel = true' }) });
    const { processor, recorder, persistence } = processorFor([skipping]);
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 1 }]);
    expect(outcomes.get('r')).toEqual({ kind: 'done', routes: [{ routeId: 'default', result: 'skipped' }] });
    expect(recorder.metric(MetricName.MessageSkipped)).toBe(1);
    expect(slack.requests).toHaveLength(0);
    expect(persistence.size).toBe(1);
  });

  it('placeholder secret: retried until the operator sets it, dead-lettered at the last attempt with that reason', async () => {
    const { SECRET_PLACEHOLDER } = await import('../../lambda/shared/function-env');
    const first = await deliverOne(1, () => SECRET_PLACEHOLDER);
    expect(first.outcome).toMatchObject({ kind: 'retry', delaySeconds: 30, reason: expect.stringContaining('placeholder') as unknown });
    const last = await deliverOne(3, () => SECRET_PLACEHOLDER);
    expect(last.outcome).toMatchObject({ kind: 'dead-letter', reason: expect.stringContaining('placeholder') as unknown, attempts: 3 });
    expect(last.outcome).not.toHaveProperty('lastSlackResponse');
    expect(slack.requests).toHaveLength(0);
  });

  it('several routes: each delivered on its own; a failing route retries alone and the done one is not posted again', async () => {
    slack.respond = (request) => (request.path.includes('/ops/') ? answer(503, 'busy') : ok);
    const { processor } = processorFor([
      route('finance', () => slack.url('/services/finance/secret-token'), { events: ['payment.*'] }),
      route('ops', () => slack.url('/services/ops/secret-token')),
      route('disputes', () => slack.url('/services/disputes/secret-token'), { events: ['dispute.*'] }),
    ]);
    const event = webhook('payment.succeeded');
    const first = await processor.processBatch([{ id: 'r', webhook: event, receiveCount: 1 }]);
    expect(first.get('r')).toMatchObject({ kind: 'retry', delaySeconds: 30, reason: 'Slack answered 503 busy' });
    slack.respond = () => ok;
    const second = await processor.processBatch([{ id: 'r', webhook: event, receiveCount: 2 }]);
    expect(second.get('r')).toEqual({
      kind: 'done',
      routes: [
        { routeId: 'finance', result: 'duplicate' },
        { routeId: 'ops', result: 'delivered' },
      ],
    });
    expect(slack.requests.map((r) => r.path)).toEqual(['/services/finance/secret-token', '/services/ops/secret-token', '/services/ops/secret-token']);
  });
});

describe('user code that could not be loaded in this instance', () => {
  const slack = useFakeSlack();

  it('is retried with backoff like an outage, and dead-lettered with its reason only at the last attempt', async () => {
    const unavailable: Transform = () =>
      Promise.reject(new TransformationUnavailableError('user code "r0" could not be loaded in this instance (retrying): worker did not start'));
    const { processor } = processorFor([route('default', () => slack.url(), { transform: unavailable })]);
    const event = webhook();
    const first = await processor.processBatch([{ id: 'a', webhook: event, receiveCount: 1 }]);
    expect(first.get('a')).toMatchObject({ kind: 'retry', delaySeconds: 30 });
    const last = await processor.processBatch([{ id: 'a', webhook: event, receiveCount: 3 }]);
    expect(last.get('a')).toMatchObject({ kind: 'dead-letter', reason: expect.stringMatching(/could not be loaded in this instance/) as unknown });
    expect(slack.requests).toHaveLength(0);
  });
});

describe('one parse of the body per record', () => {
  const slack = useFakeSlack();

  it('every route gets the same parsed envelope', async () => {
    const seen: unknown[] = [];
    const spy: Transform = (input) => {
      seen.push(input.envelope);
      return Promise.resolve({ kind: 'message', message: { text: input.eventType } });
    };
    const { processor } = processorFor([route('a', () => slack.url('/a'), { transform: spy }), route('b', () => slack.url('/b'), { transform: spy })]);
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 1 }]);
    expect(outcomes.get('r')).toMatchObject({ kind: 'done' });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBe(seen[0]);
  });

  it('a body that is not JSON is dead-lettered for every matching route, each counted as a transformation error', async () => {
    const { processor, recorder } = processorFor([route('a', () => slack.url('/a')), route('b', () => slack.url('/b'))]);
    const outcomes = await processor.processBatch([{ id: 'r', webhook: { ...webhook(), body: 'not json {' }, receiveCount: 1 }]);
    expect(outcomes.get('r')).toMatchObject({ kind: 'dead-letter', reason: 'a: the webhook body is not JSON; b: the webhook body is not JSON', routeId: 'a,b' });
    expect(recorder.counts.get(MetricName.TransformationError)).toBe(2);
    expect(slack.requests).toHaveLength(0);
  });
});

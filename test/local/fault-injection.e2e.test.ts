import { createLocalQueue, type LocalDeadLetter } from '../support/memory-queue';
import { createRateLimiter } from '../../lambda/transformer/rate-limiter';
import { createSlackClient } from '../../lambda/transformer/slack-client';
import { answer, FakeSlack, ok, type SlackScript } from '../support/fake-slack';
import { processorFor, route, webhook } from '../support/delivery';

/**
 * 1,000 events through the local queue and the real delivery policy while the Slack stand-in
 * fails 30% of requests at random (500, 503, connection reset, too slow) and answers 429 to
 * bursts beyond its own token bucket. Every event must end delivered exactly once or dead-lettered
 * with a reason: zero lost, zero duplicated.
 */
describe('fault injection', () => {
  const slack = new FakeSlack();
  beforeAll(() => slack.start());
  afterAll(() => slack.stop());

  it('1,000 events, 30% random failures and 429s: each delivered exactly once or dead-lettered with a reason', async () => {
    const EVENTS = 1000;
    // Deterministic "random" so a failure reproduces.
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    // Slack's side: a token bucket of 350 requests/s, burst 5; beyond it, 429 with Retry-After.
    const slackRate = 350;
    const slackBurst = 5;
    let tokens = slackBurst;
    let refilledAt = Date.now();
    const counts = { requests: 0, ok: 0, rateLimited: 0, failed: 0 };
    slack.respond = (): SlackScript => {
      counts.requests += 1;
      const now = Date.now();
      tokens = Math.min(slackBurst, tokens + ((now - refilledAt) / 1000) * slackRate);
      refilledAt = now;
      if (tokens < 1) {
        counts.rateLimited += 1;
        return answer(429, 'rate_limited', { 'retry-after': '1' });
      }
      tokens -= 1;
      const roll = random();
      if (roll < 0.3) {
        counts.failed += 1;
        if (roll < 0.1) return answer(500, 'internal_error');
        if (roll < 0.2) return answer(503, 'service_unavailable');
        if (roll < 0.295) return { kind: 'reset' };
        // Too slow: never answers within our timeout. The timeout is generous (1 s) so that a busy
        // machine (2 cores, other suites running) does not turn an answered 200 into a "timeout".
        return { kind: 'slow', delayMs: 3000 };
      }
      counts.ok += 1;
      return ok;
    };

    const { processor } = processorFor([route('default', () => slack.url())], {
      maxReceiveCount: 5,
      // Our side paces below Slack's rate but allows bursts of 20 (8 concurrent batches): the bursts collect 429s, which pause us.
      rateLimiter: createRateLimiter({ ratePerSecond: 300, burst: 20 }),
      postToSlack: createSlackClient({ timeoutMs: 1000 }),
    });
    const deadLetters: LocalDeadLetter[] = [];
    // 1 ms per second of policy delay: 30 s backoff -> 30 ms, Retry-After 1 -> 1 ms.
    const queue = createLocalQueue({ processor, maxAttempts: 5, onDeadLetter: (d) => deadLetters.push(d), concurrency: 8, delayScale: 1 });

    const started = Date.now();
    const ids = Array.from({ length: EVENTS }, (_, n) => queue.enqueue(webhook('payment.succeeded', `msg_fault_${n}`)) && `msg_fault_${n}`);
    await queue.drain();
    const elapsedMs = Date.now() - started;

    const deliveredPerId = new Map<string, number>();
    for (const request of slack.delivered()) {
      const id = String(request.json.text).split(' ')[1]!;
      deliveredPerId.set(id, (deliveredPerId.get(id) ?? 0) + 1);
    }
    const deadLetterPerId = new Map<string, LocalDeadLetter[]>();
    for (const d of deadLetters) deadLetterPerId.set(d.webhookId, [...(deadLetterPerId.get(d.webhookId) ?? []), d]);

    const duplicated = ids.filter((id) => (deliveredPerId.get(id) ?? 0) > 1);
    const lost = ids.filter((id) => !deliveredPerId.has(id) && !deadLetterPerId.has(id));
    const both = ids.filter((id) => deliveredPerId.has(id) && deadLetterPerId.has(id));
    const summary = {
      events: EVENTS,
      delivered: deliveredPerId.size,
      deadLettered: deadLetterPerId.size,
      lost: lost.length,
      duplicated: duplicated.length,
      slackRequests: counts.requests,
      slackFailures: counts.failed,
      slack429s: counts.rateLimited,
      elapsedMs,
    };
    console.log(`fault injection: ${JSON.stringify(summary)}`);

    expect(lost).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(both).toEqual([]);
    expect(deliveredPerId.size + deadLetterPerId.size).toBe(EVENTS);
    for (const d of deadLetters) {
      expect(d.reason).toMatch(/Slack (answered 5\d\d|request failed)/);
      expect(d.attempts).toBe(5);
      expect(d.lastSlackResponse).toBeDefined();
      expect(d.body).toContain('"payment.succeeded"');
    }
    expect(counts.failed).toBeGreaterThan(EVENTS * 0.3);
    expect(counts.rateLimited).toBeGreaterThan(0);
    expect(elapsedMs).toBeLessThan(60_000);
  }, 90_000);
});

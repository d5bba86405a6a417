import { CachedSecret } from '../../lambda/shared/secret-cache';
import { parseSlackWebhookUrl } from '../../lambda/transformer/slack-url';
import { answer, ok, useFakeSlack } from '../support/fake-slack';
import { processorFor, route, webhook } from '../support/delivery';

describe('Slack URL rotation mid-run', () => {
  const slack = useFakeSlack();

  const OLD = '/services/T1/B1/old-secret-token';
  const NEW = '/services/T1/B2/new-secret-token';

  it('deliveries move to the new URL within the cache TTL', async () => {
    let secret = slack.url(OLD);
    let loads = 0;
    const ttlMs = 300;
    const { processor } = processorFor([
      route(
        'default',
        () => {
          loads += 1;
          return secret;
        },
        { ttlMs },
      ),
    ]);
    const deliverAt: { path: string; at: number }[] = [];
    slack.respond = (request) => {
      deliverAt.push({ path: request.path, at: Date.now() });
      return ok;
    };
    const started = Date.now();
    let rotatedAt = 0;
    while (Date.now() - started < 900) {
      if (!rotatedAt && Date.now() - started > 200) {
        secret = slack.url(NEW);
        rotatedAt = Date.now();
      }
      const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 1 }]);
      expect(outcomes.get('r')).toMatchObject({ kind: 'done' });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const afterTtl = deliverAt.filter((d) => d.at > rotatedAt + ttlMs);
    expect(afterTtl.length).toBeGreaterThan(3);
    expect(afterTtl.every((d) => d.path === NEW)).toBe(true);
    // Cached in between: the old URL was still used right after the change, and not fetched per message.
    expect(deliverAt.filter((d) => d.at > rotatedAt && d.path === OLD).length).toBeGreaterThan(0);
    expect(loads).toBeLessThanOrEqual(5);
  });

  it('moves at once after a 404 from the old URL, even with a long TTL', async () => {
    let secret = slack.url(OLD);
    const now = { value: 1_000_000 };
    const routeWithLongTtl = route('default', () => secret);
    // A real cache with a 1 hour TTL and the default 10 s refresh limit, on a controllable clock.
    (routeWithLongTtl as { slackUrl: CachedSecret<string> }).slackUrl = new CachedSecret({
      load: () => Promise.resolve(secret),
      parse: (raw) => parseSlackWebhookUrl(raw, { allowInsecureLocalhost: true }),
      ttlMs: 3_600_000,
      now: () => now.value,
    });
    const { processor, recorder } = processorFor([routeWithLongTtl]);
    expect((await processor.processBatch([{ id: 'a', webhook: webhook(), receiveCount: 1 }])).get('a')).toMatchObject({ kind: 'done' });

    // The operator rotates: the old webhook is revoked, the secret holds the new one.
    secret = slack.url(NEW);
    slack.respond = (request) => (request.path === OLD ? answer(404, 'channel_not_found') : ok);
    now.value += 60_000;
    const outcomes = await processor.processBatch([
      { id: 'b', webhook: webhook(), receiveCount: 1 },
      { id: 'c', webhook: webhook(), receiveCount: 1 },
    ]);
    expect(outcomes.get('b')).toMatchObject({ kind: 'done', routes: [{ routeId: 'default', result: 'delivered' }] });
    expect(outcomes.get('c')).toMatchObject({ kind: 'done' });
    expect(slack.requests.map((r) => r.path)).toEqual([OLD, OLD, NEW, NEW]);
    expect(recorder.text()).not.toContain('secret-token');
  });

  it('a 404 right after the secret was read (refetch rate-limited) is retried later, not dead-lettered', async () => {
    slack.respond = () => answer(404, 'channel_not_found');
    const guarded = route('default', () => slack.url(OLD), { minRefreshIntervalMs: 10_000 });
    const { processor } = processorFor([guarded]);
    const outcomes = await processor.processBatch([{ id: 'r', webhook: webhook(), receiveCount: 1 }]);
    expect(outcomes.get('r')).toMatchObject({ kind: 'retry', delaySeconds: 30, reason: expect.stringContaining('404 channel_not_found') as unknown });
  });
});

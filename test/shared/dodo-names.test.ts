/**
 * The Dodo API look-ups through the real SDK client against a stand-in on 127.0.0.1: names found
 * and cached (one request per ID however many ask), "not found" remembered, and every failure
 * (500, 401, no answer) leaving the IDs, logged once per cause, counted, and short-circuited for a
 * while. The key never reaches the logs.
 */
import { createDodoNameLookup, MemoryNameCache, tieredNameCache } from '../../lambda/shared/dodo-names';
import { MetricName } from '../../lambda/shared/metrics';
import type { CoreLogger, CoreMetrics } from '../../lambda/shared/ports';
import { FakeDodoApi, paymentJson } from '../support/fake-dodo-api';

const API_KEY = 'dodo_sk_live_Zq8v3NwX7pL2mK9sT4yR1cB6';

let api: FakeDodoApi;
let apiUrl: string;
let logs: { level: string; message: string; extra?: Record<string, unknown> }[];
let counts: Map<string, number>;
let clock: number;

const logger: CoreLogger = {
  debug: (message, extra) => logs.push({ level: 'debug', message, extra }),
  info: (message, extra) => logs.push({ level: 'info', message, extra }),
  warn: (message, extra) => logs.push({ level: 'warn', message, extra }),
  error: (message, extra) => logs.push({ level: 'error', message, extra }),
};
const metrics: CoreMetrics = { count: (name, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value), milliseconds: () => {} };

beforeEach(async () => {
  api = new FakeDodoApi().product('pdt_R8AWMPiV8RyJElcCKvAID', 'Pro plan').product('pdt_Starter', 'Starter <!channel> *bold*');
  api.payment('pay_9KdWq2mXz7LpR4tYb1NcV', paymentJson('pay_9KdWq2mXz7LpR4tYb1NcV', { productIds: ['pdt_R8AWMPiV8RyJElcCKvAID'] }));
  apiUrl = await api.start();
  logs = [];
  counts = new Map();
  clock = Date.UTC(2026, 11, 7, 12);
});
afterEach(() => api.stop());

function lookup(options: { timeLimitMs?: number; refresh?: () => Promise<unknown>; cache?: MemoryNameCache; ttlMs?: number } = {}) {
  return createDodoNameLookup({
    apiKey: { get: () => Promise.resolve(API_KEY), ...(options.refresh ? { refresh: options.refresh } : {}) },
    apiUrl,
    logger,
    metrics,
    now: () => clock,
    ...(options.timeLimitMs === undefined ? {} : { timeLimitMs: options.timeLimitMs }),
    ...(options.cache === undefined ? {} : { cache: options.cache }),
    ...(options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs }),
  });
}

const product = (id: string) => ({ productIds: [id], paymentIds: [] });

test('a product name, asked with the key as a bearer token; concurrent and later look-ups of one ID share one request while cached', async () => {
  const names = lookup();
  const answers = await Promise.all([1, 2, 3, 4, 5].map(() => names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live')));
  for (const answer of answers) expect(answer).toEqual({ products: { pdt_R8AWMPiV8RyJElcCKvAID: 'Pro plan' } });
  expect(await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live')).toEqual({ products: { pdt_R8AWMPiV8RyJElcCKvAID: 'Pro plan' } });
  expect(api.requests).toEqual([{ method: 'GET', path: '/products/pdt_R8AWMPiV8RyJElcCKvAID', authorization: `Bearer ${API_KEY}` }]);
});

test('an entry expires after its time to live and is asked again; test and live mode are cached apart', async () => {
  const names = lookup({ ttlMs: 60_000 });
  await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live');
  clock += 59_999;
  await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live');
  expect(api.requests).toHaveLength(1);
  clock += 1;
  await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live');
  await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'test');
  expect(api.requests).toHaveLength(3);
});

test('the memory cache keeps at most its bound, the oldest entry making way, and forgets what expired', () => {
  const cache = new MemoryNameCache(2);
  cache.set('a', 'A', clock + 1000);
  cache.set('b', 'B', clock + 1000);
  cache.set('c', 'C', clock + 1000);
  expect([cache.get('a', clock), cache.get('b', clock), cache.get('c', clock)]).toEqual([undefined, 'B', 'C']);
  expect(cache.get('b', clock + 1000)).toBeUndefined();
});

test('a tiered cache fills its front from its back', () => {
  const front = new MemoryNameCache(10);
  const back = new MemoryNameCache(10);
  back.set('k', 'v', clock + 10_000);
  const tiered = tieredNameCache(front, back);
  expect(tiered.get('k', clock)).toBe('v');
  expect(front.get('k', clock)).toBe('v');
});

test('an unknown product is remembered as unknown (one request), and is no failure', async () => {
  const names = lookup();
  expect(await names.find(product('pdt_Gone'), 'live')).toEqual({});
  expect(await names.find(product('pdt_Gone'), 'live')).toEqual({});
  expect(api.requestsFor('/products/pdt_Gone')).toHaveLength(1);
  expect(counts.get(MetricName.NameLookupFailed)).toBeUndefined();
});

test("an abandoned checkout's payment, then its products", async () => {
  const names = lookup();
  expect(await names.find({ productIds: [], paymentIds: ['pay_9KdWq2mXz7LpR4tYb1NcV'] }, 'live')).toEqual({
    products: { pdt_R8AWMPiV8RyJElcCKvAID: 'Pro plan' },
    payments: {
      pay_9KdWq2mXz7LpR4tYb1NcV: {
        totalAmount: 4900,
        currency: 'USD',
        customer: { customer_id: 'cus_2bQ7xN1mKp9sVt4LwZ8Ya', name: 'Grace Hopper', email: 'grace@example.com' },
        productCart: [{ product_id: 'pdt_R8AWMPiV8RyJElcCKvAID', quantity: 1 }],
      },
    },
  });
  expect(api.requests.map((request) => request.path)).toEqual(['/payments/pay_9KdWq2mXz7LpR4tYb1NcV', '/products/pdt_R8AWMPiV8RyJElcCKvAID']);
});

describe.each([
  ['the API answers 500', 'error-500', 'server-error'],
  ['the API rejects the key (401)', 'unauthorized', 'key-rejected'],
  ['the API never answers', 'hang', 'timeout'],
] as const)('when %s', (_name, behaviour, cause) => {
  test('the IDs stay, the failure is logged once and counted, and for a while no message waits on the API', async () => {
    api.behaviour = behaviour;
    const refresh = jest.fn(() => Promise.resolve());
    const names = lookup({ timeLimitMs: 300, refresh });
    expect(await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live')).toEqual({});
    const asked = api.requests.length;
    expect(asked).toBeGreaterThanOrEqual(1);
    // The circuit is open: the next messages do not ask.
    for (let i = 0; i < 3; i += 1) expect(await names.find(product(`pdt_Other${i}`), 'live')).toEqual({});
    expect(api.requests).toHaveLength(asked);
    expect(counts.get(MetricName.NameLookupSkipped)).toBe(3);
    expect(counts.get(MetricName.NameLookupFailed)).toBeGreaterThanOrEqual(1);
    expect(refresh).toHaveBeenCalledTimes(behaviour === 'unauthorized' ? 1 : 0);

    // 30 s later one message probes again; still failing, still logged once.
    clock += 30_000;
    expect(await names.find(product('pdt_Starter'), 'live')).toEqual({});
    expect(api.requestsFor('/products/pdt_Starter')).toHaveLength(1);
    const warnings = logs.filter((entry) => entry.level === 'warn');
    expect(warnings.map((entry) => [entry.message, entry.extra?.cause])).toEqual([['Dodo API look-up failed: messages show IDs instead of names', cause]]);

    // The API is back: names again, and a later outage is logged again.
    api.behaviour = 'ok';
    clock += 30_000;
    expect(await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live')).toEqual({ products: { pdt_R8AWMPiV8RyJElcCKvAID: 'Pro plan' } });
    expect(JSON.stringify(logs)).not.toContain(API_KEY);
  });
});

test('without a usable key (the secret not set yet) the IDs stay and the key source is not hammered', async () => {
  const names = createDodoNameLookup({ apiKey: { get: () => Promise.reject(new Error('the Dodo API key secret is not set yet')) }, apiUrl, logger, metrics, now: () => clock });
  expect(await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live')).toEqual({});
  expect(await names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live')).toEqual({});
  expect(api.requests).toHaveLength(0);
  expect(counts.get(MetricName.NameLookupFailed)).toBe(1);
  expect(logs.filter((entry) => entry.level === 'warn').map((entry) => entry.extra?.cause)).toEqual(['no-key']);
});

test('nothing wanted asks nothing', async () => {
  expect(await lookup().find({ productIds: [], paymentIds: [] }, 'live')).toEqual({});
  expect(api.requests).toHaveLength(0);
});

test('a cache that fails (a busy store) reads as a miss and never fails the look-up', async () => {
  const broken = { get: () => { throw new Error('SQLITE_BUSY'); }, set: () => { throw new Error('SQLITE_BUSY'); } };
  const names = createDodoNameLookup({ apiKey: { get: () => Promise.resolve(API_KEY) }, apiUrl, cache: broken, logger, metrics, now: () => clock });
  await expect(names.find(product('pdt_R8AWMPiV8RyJElcCKvAID'), 'live')).resolves.toEqual({});
});

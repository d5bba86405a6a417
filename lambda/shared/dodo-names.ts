/**
 * The {@link NameLookup} port on the Dodo API, through Dodo's official SDK (`dodopayments`):
 * `products.retrieve` for product names, `payments.retrieve` for what an abandoned checkout's
 * payment was. Shared by both engines; they bring the key, the cache and the telemetry.
 *
 * Never in the way of a notification:
 *   - every look-up of one message is bounded by `timeLimitMs` in total (the SDK's own timeout, no
 *     SDK retry, and our own deadline around the whole, which aborts the requests); past it the
 *     message goes with IDs;
 *   - answers, and "no such object", are cached per key (mode, kind, ID) for `ttlMs`, within
 *     `maxEntries`; concurrent look-ups of one ID share one request;
 *   - after a failure that says the API is unusable now (timeout, network, 429, 5xx, 401/403, no
 *     key), the circuit opens: for `circuitOpenMs` messages do not wait on the API at all (cached
 *     names still apply), then one message probes it again;
 *   - each cause of failure is logged once until a look-up succeeds again, and every failure is
 *     counted (NameLookupFailed; messages that did not wait: NameLookupSkipped). The key is never
 *     logged: only the cause and the HTTP status are.
 */
import DodoPayments from 'dodopayments';
import type { Payment } from 'dodopayments/resources/payments';
import type { Product } from 'dodopayments/resources/products/products';
import type { CoreLogger, CoreMetrics, NameLookup } from './ports';
import type { WebhookMode } from './webhook';
import type { KnownNames, KnownPayment, NamesWanted } from './names';
import { cartProductIds, nothingWanted } from './names';
import { MetricName } from './metrics';

/** Defaults of the look-ups (the construct and `serve` take them as they are). */
export const NameLookupDefaults = {
  /** Total time one message may wait on the API. */
  timeLimitMs: 1500,
  /** How long a name (or "not found") is kept. */
  ttlMs: 24 * 3600 * 1000,
  /** Entries kept in a cache. */
  maxEntries: 5000,
  /** How long messages go without waiting on the API after it failed. */
  circuitOpenMs: 30_000,
} as const;

/**
 * A cache of look-up answers by key: in memory on Lambda (the values as they are), the SQLite store
 * in `serve` (as JSON). A value is a name, a payment, or null for "no such object"; never undefined.
 */
export interface NameCache {
  /** The value stored under `key` unless it expired at `nowMs`. */
  get(key: string, nowMs: number): unknown;
  set(key: string, value: unknown, expiresAtMs: number): void;
}

/** The Dodo API key: read (and cached) by the engine; `refresh` after the API said 401. */
export interface ApiKeySource {
  get(): Promise<string>;
  refresh?(): Promise<unknown>;
}

export interface DodoNameLookupOptions {
  readonly apiKey: ApiKeySource;
  /** One base URL for both modes (a stand-in, a proxy). @default the SDK's environment of the webhook's mode */
  readonly apiUrl?: string;
  /** @default NameLookupDefaults.timeLimitMs */
  readonly timeLimitMs?: number;
  /** @default NameLookupDefaults.ttlMs */
  readonly ttlMs?: number;
  /** @default NameLookupDefaults.circuitOpenMs */
  readonly circuitOpenMs?: number;
  /** @default a {@link MemoryNameCache} of NameLookupDefaults.maxEntries */
  readonly cache?: NameCache;
  readonly logger: CoreLogger;
  readonly metrics: CoreMetrics;
  readonly now?: () => number;
}

/**
 * A map with expiry, bounded: what one Lambda instance keeps. Past `maxEntries` the oldest entry
 * makes way (first in, first out: a read costs one map lookup, nothing is reordered).
 */
export class MemoryNameCache implements NameCache {
  private readonly entries = new Map<string, { readonly value: unknown; readonly expiresAtMs: number }>();
  constructor(private readonly maxEntries: number = NameLookupDefaults.maxEntries) {}

  get(key: string, nowMs: number): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: unknown, expiresAtMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAtMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** A fast cache in front of a durable one (`serve`: memory before the SQLite store): what the back knows fills the front. */
export function tieredNameCache(front: NameCache, back: NameCache): NameCache {
  return {
    get(key, nowMs) {
      const hit = front.get(key, nowMs);
      if (hit !== undefined) return hit;
      const stored = back.get(key, nowMs);
      // The front keeps it a minute, then asks the back again (which knows when it expires).
      if (stored !== undefined) front.set(key, stored, nowMs + 60_000);
      return stored;
    },
    set(key, value, expiresAtMs) {
      front.set(key, value, expiresAtMs);
      back.set(key, value, expiresAtMs);
    },
  };
}

/** A cache whose failures (a busy or broken store) read as misses and skipped writes: never a delivery's failure. */
function safeCache(cache: NameCache): NameCache {
  return {
    get(key, nowMs) {
      try {
        return cache.get(key, nowMs);
      } catch {
        return undefined;
      }
    },
    set(key, value, expiresAtMs) {
      try {
        cache.set(key, value, expiresAtMs);
      } catch {
        // Not kept: this message shows the IDs, and the next one asks again.
      }
    },
  };
}

type Kind = 'product' | 'payment';
type Cause = 'timeout' | 'network' | 'key-rejected' | 'no-key' | 'rate-limited' | 'server-error' | 'client-error';

/** What a failure says: its cause, and whether it means the API is unusable for now (open the circuit). */
function classify(error: unknown): { readonly cause: Cause; readonly status?: number; readonly outage: boolean } {
  if (error instanceof DodoPayments.APIConnectionTimeoutError || error instanceof DodoPayments.APIUserAbortError) return { cause: 'timeout', outage: true };
  if (error instanceof DodoPayments.APIConnectionError) return { cause: 'network', outage: true };
  if (error instanceof DodoPayments.APIError && typeof error.status === 'number') {
    const status = error.status;
    if (status === 401 || status === 403) return { cause: 'key-rejected', status, outage: true };
    if (status === 429) return { cause: 'rate-limited', status, outage: true };
    if (status >= 500) return { cause: 'server-error', status, outage: true };
    return { cause: 'client-error', status, outage: false };
  }
  return { cause: 'no-key', outage: true };
}

class Deadline extends Error {
  override name = 'Deadline';
}

/** The value cached for an object: what the message may show, or null when the API has no such object. */
function productValue(product: Product): string | null {
  return typeof product.name === 'string' && product.name.trim() !== '' ? product.name : null;
}

function paymentValue(payment: Payment): KnownPayment {
  const customer = payment.customer as Partial<Payment['customer']> | undefined;
  return {
    ...(typeof payment.total_amount === 'number' ? { totalAmount: payment.total_amount } : {}),
    ...(typeof payment.currency === 'string' ? { currency: payment.currency } : {}),
    ...(customer
      ? {
          customer: {
            ...(typeof customer.customer_id === 'string' ? { customer_id: customer.customer_id } : {}),
            ...(typeof customer.name === 'string' ? { name: customer.name } : {}),
            ...(typeof customer.email === 'string' ? { email: customer.email } : {}),
          },
        }
      : {}),
    productCart: (payment.product_cart ?? [])
      .filter((item) => typeof item?.product_id === 'string')
      .map((item) => ({ product_id: item.product_id, ...(typeof item.quantity === 'number' ? { quantity: item.quantity } : {}) })),
  };
}

export function createDodoNameLookup(options: DodoNameLookupOptions): NameLookup {
  const now = options.now ?? Date.now;
  const timeLimitMs = options.timeLimitMs ?? NameLookupDefaults.timeLimitMs;
  const ttlMs = options.ttlMs ?? NameLookupDefaults.ttlMs;
  const circuitOpenMs = options.circuitOpenMs ?? NameLookupDefaults.circuitOpenMs;
  const cache = safeCache(options.cache ?? new MemoryNameCache());
  const { logger, metrics } = options;

  const inFlight = new Map<string, Promise<void>>();
  const clients = new Map<string, { readonly key: string; readonly client: DodoPayments }>();
  const logged = new Set<Cause>();
  let circuit: { state: 'closed' } | { state: 'open'; until: number } | { state: 'probing' } = { state: 'closed' };

  const cacheKey = (mode: WebhookMode, kind: Kind, id: string) => `${mode}:${kind}:${id}`;

  async function clientFor(mode: WebhookMode): Promise<DodoPayments> {
    const key = (await options.apiKey.get()).trim();
    if (key === '') throw new Error('no Dodo API key');
    const current = clients.get(mode);
    if (current?.key === key) return current.client;
    const client = new DodoPayments({
      bearerToken: key,
      webhookKey: null,
      // The SDK's own time limit inside ours, and no retry: its backoff (0.5 s and more) would spend
      // most of a message's 1.5 s; after a failure the circuit tries the API again later instead.
      timeout: timeLimitMs,
      maxRetries: 0,
      logLevel: 'off',
      ...(options.apiUrl !== undefined ? { baseURL: options.apiUrl } : { baseURL: null, environment: mode === 'test' ? ('test_mode' as const) : ('live_mode' as const) }),
    });
    clients.set(mode, { key, client });
    return client;
  }

  function failed(error: unknown): void {
    const { cause, status, outage } = classify(error);
    metrics.count(MetricName.NameLookupFailed);
    if (!logged.has(cause)) {
      logged.add(cause);
      logger.warn('Dodo API look-up failed: messages show IDs instead of names', { cause, ...(status === undefined ? {} : { status }), retryAfterMs: outage ? circuitOpenMs : undefined });
    }
    if (cause === 'key-rejected') void options.apiKey.refresh?.().catch(() => undefined);
    if (outage) circuit = { state: 'open', until: now() + circuitOpenMs };
    else if (circuit.state === 'probing') circuit = { state: 'closed' };
  }

  function succeeded(): void {
    circuit = { state: 'closed' };
    logged.clear();
  }

  /** One object, fetched once however many messages want it at the same time; its answer goes to the cache. */
  function fetchOne(mode: WebhookMode, kind: Kind, id: string, signal: AbortSignal): Promise<void> {
    const key = cacheKey(mode, kind, id);
    const running = inFlight.get(key);
    if (running !== undefined) return running;
    const request = (async () => {
      try {
        const client = await clientFor(mode);
        const requestOptions = { signal, timeout: timeLimitMs, maxRetries: 0 };
        const value = kind === 'product' ? productValue(await client.products.retrieve(id, requestOptions)) : paymentValue(await client.payments.retrieve(id, requestOptions));
        cache.set(key, value, now() + ttlMs);
        succeeded();
      } catch (error) {
        // No such object (deleted, or of the other mode): remembered like a name, so it is not asked again.
        if (error instanceof DodoPayments.NotFoundError) {
          cache.set(key, null, now() + ttlMs);
          succeeded();
          return;
        }
        // Aborted at a message's time limit: that message's deadline has counted it already.
        if (!(error instanceof DodoPayments.APIUserAbortError)) failed(error);
      } finally {
        inFlight.delete(key);
      }
    })();
    inFlight.set(key, request);
    return request;
  }

  /**
   * What the cache knows about `wanted` (with the products of the payments it knows), and what it
   * does not: one read per ID, so a warm cache costs a few map reads per message.
   */
  function fromCache(mode: WebhookMode, wanted: NamesWanted): { readonly names: KnownNames; readonly missingPayments: string[]; readonly missingProducts: string[] } {
    const nowMs = now();
    let products: Record<string, string> | undefined;
    let payments: Record<string, KnownPayment> | undefined;
    const missingPayments: string[] = [];
    const missingProducts: string[] = [];
    const productIds = [...wanted.productIds];
    for (const id of wanted.paymentIds) {
      const value = cache.get(cacheKey(mode, 'payment', id), nowMs);
      if (value === undefined) missingPayments.push(id);
      else if (value !== null && typeof value === 'object') {
        const payment = value as KnownPayment;
        (payments ??= {})[id] = payment;
        productIds.push(...cartProductIds(payment.productCart));
      }
    }
    for (const id of productIds) {
      if (products?.[id] !== undefined || missingProducts.includes(id)) continue;
      const value = cache.get(cacheKey(mode, 'product', id), nowMs);
      if (value === undefined) missingProducts.push(id);
      else if (typeof value === 'string') (products ??= {})[id] = value;
    }
    return { names: { ...(products === undefined ? {} : { products }), ...(payments === undefined ? {} : { payments }) }, missingPayments, missingProducts };
  }

  /** May this message wait on the API? Not while the circuit is open; the first after it closes probes. */
  function mayAsk(): boolean {
    if (circuit.state === 'closed') return true;
    if (circuit.state === 'open' && now() >= circuit.until) {
      circuit = { state: 'probing' };
      return true;
    }
    return false;
  }

  function find(wanted: NamesWanted, mode: WebhookMode): Promise<KnownNames> {
    try {
      return findOrThrow(wanted, mode).catch(() => ({}));
    } catch {
      // Nothing a look-up does may fail a delivery: without names, the message shows IDs.
      return Promise.resolve({});
    }
  }

  function findOrThrow(wanted: NamesWanted, mode: WebhookMode): Promise<KnownNames> {
    if (nothingWanted(wanted)) return Promise.resolve({});
    const cached = fromCache(mode, wanted);
    // A warm cache answers at once, without waiting on anything.
    if (cached.missingPayments.length === 0 && cached.missingProducts.length === 0) return Promise.resolve(cached.names);
    if (!mayAsk()) {
      metrics.count(MetricName.NameLookupSkipped);
      return Promise.resolve(cached.names);
    }
    return ask(wanted, mode, cached);
  }

  /** Fetches what the cache lacks, within the time limit; answers with what is known then. */
  async function ask(wanted: NamesWanted, mode: WebhookMode, cached: ReturnType<typeof fromCache>): Promise<KnownNames> {

    const controller = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(new Deadline());
      }, timeLimitMs);
      timer.unref?.();
    });
    const work = (async () => {
      await Promise.all(cached.missingPayments.map((id) => fetchOne(mode, 'payment', id, controller.signal)));
      // An abandoned checkout's products are known once its payment is.
      const { missingProducts } = fromCache(mode, wanted);
      await Promise.all(missingProducts.map((id) => fetchOne(mode, 'product', id, controller.signal)));
    })();
    try {
      await Promise.race([work, deadline]);
    } catch (error) {
      // Past the time limit: the circuit opens now, before the next message asks.
      if (error instanceof Deadline) failed(new DodoPayments.APIConnectionTimeoutError());
    } finally {
      clearTimeout(timer);
    }
    return fromCache(mode, wanted).names;
  }

  return { find, timeLimitMs };
}

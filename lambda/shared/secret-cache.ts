/**
 * A secret value cached with a TTL, so operators can rotate secrets in the AWS console and the
 * functions pick the new value up without a redeploy: after `ttlMs` at the latest, or at once when
 * the caller asks for a refresh because the cached value just failed (wrong signature, Slack 404).
 *
 * Forced refreshes are rate-limited (`minRefreshIntervalMs`) so a flood of forged webhooks cannot
 * turn into a flood of Secrets Manager calls. Pure: the loader is injected.
 */
export interface CachedSecretOptions<T> {
  /** Fetches the current raw secret string (Secrets Manager on AWS, an env var locally). */
  readonly load: () => Promise<string>;
  /** Turns the raw string into a usable value; throws (SecretConfigurationError) on a bad value. */
  readonly parse: (raw: string) => T;
  readonly ttlMs: number;
  /** Minimum time between two fetches triggered by refresh(). @default 10_000 */
  readonly minRefreshIntervalMs?: number;
  readonly now?: () => number;
}

type Entry<T> = { readonly fetchedAt: number } & ({ readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown });

export class CachedSecret<T> {
  private entry: Entry<T> | undefined;
  private inFlight: Promise<Entry<T>> | undefined;
  private readonly now: () => number;
  private readonly minRefreshIntervalMs: number;

  constructor(private readonly options: CachedSecretOptions<T>) {
    this.now = options.now ?? Date.now;
    this.minRefreshIntervalMs = options.minRefreshIntervalMs ?? 10_000;
  }

  /** The cached value while fresh, otherwise a newly fetched one. Throws what parse/load threw. */
  async get(): Promise<T> {
    const entry = this.entry;
    // A bad value is kept only for the refresh interval: the operator's fix should apply quickly.
    const maxAge = entry?.ok === false ? Math.min(this.options.ttlMs, this.minRefreshIntervalMs) : this.options.ttlMs;
    if (entry && this.now() - entry.fetchedAt < maxAge) return unwrap(entry);
    return unwrap(await this.fetch());
  }

  /**
   * Fetches again unless the last fetch was less than `minRefreshIntervalMs` ago.
   * Returns `refreshed: false` when rate-limited (the cached value is returned then).
   */
  async refresh(): Promise<{ readonly value: T; readonly refreshed: boolean }> {
    const entry = this.entry;
    if (entry && this.now() - entry.fetchedAt < this.minRefreshIntervalMs) {
      return { value: unwrap(entry), refreshed: false };
    }
    return { value: unwrap(await this.fetch()), refreshed: true };
  }

  /** Forgets the cached value (tests, and the local server when its configuration changes). */
  clear(): void {
    this.entry = undefined;
  }

  private fetch(): Promise<Entry<T>> {
    // Concurrent callers share one fetch.
    this.inFlight ??= (async () => {
      let next: Entry<T>;
      try {
        const value = this.options.parse(await this.options.load());
        next = { ok: true, value, fetchedAt: this.now() };
      } catch (error) {
        next = { ok: false, error, fetchedAt: this.now() };
      }
      this.entry = next;
      return next;
    })().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }
}

function unwrap<T>(entry: Entry<T>): T {
  if (entry.ok) return entry.value;
  throw entry.error;
}

/**
 * The look-ups of `serve`, `preview` and `summary`: the key from `DODO_API_KEY`, the API at
 * `--dodo-api-url` or Dodo's host of the webhook's mode, and answers kept in memory in front of the
 * store (when there is one), so a restart asks the API only for what it has not seen.
 */
import type { CoreLogger, CoreMetrics, NameLookup } from '../shared/ports';
import type { NameCache } from '../shared/dodo-names';

export interface LocalNameLookupOptions {
  /** Never printed. */
  readonly apiKey: string;
  readonly apiUrl?: string;
  /** The store's cache (`serve`, `summary`); without it, answers live as long as the process. */
  readonly stored?: (maxEntries: number) => NameCache;
  readonly logger: CoreLogger;
  readonly metrics: CoreMetrics;
}

export function localNameLookup(options: LocalNameLookupOptions): NameLookup {
  // Loaded here, not at the top: the SDK costs start-up time that runs without a key do not need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose: only runs with a Dodo API key load the SDK
  const { createDodoNameLookup, MemoryNameCache, NameLookupDefaults, tieredNameCache } = require('../shared/dodo-names') as typeof import('../shared/dodo-names');
  const memory = new MemoryNameCache(NameLookupDefaults.maxEntries);
  const key = options.apiKey;
  return createDodoNameLookup({
    // An environment variable cannot change while the process runs: nothing to refresh.
    apiKey: { get: () => Promise.resolve(key) },
    ...(options.apiUrl === undefined ? {} : { apiUrl: options.apiUrl }),
    cache: options.stored === undefined ? memory : tieredNameCache(memory, options.stored(NameLookupDefaults.maxEntries)),
    logger: options.logger,
    metrics: options.metrics,
  });
}

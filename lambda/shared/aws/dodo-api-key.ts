/**
 * The Dodo API look-ups of the transformer and the summary function: the key read from Secrets
 * Manager and cached like the Slack credentials (refetched after the TTL, and when the API answers
 * 401, at most once per `minRefreshIntervalMs`), the answers cached in this instance's memory.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CoreLogger, CoreMetrics, NameLookup } from '../ports';
import { SecretConfigurationError } from '../errors';
import { SECRET_PLACEHOLDER } from '../function-env';
import { CachedSecret } from '../secret-cache';
import { secretsManagerLoader } from './secrets-manager';

export interface AwsNameLookupOptions {
  /** ARN of the secret holding the Dodo API key. */
  readonly secretArn: string;
  /** @default Dodo's host of the webhook's mode */
  readonly apiUrl?: string;
  readonly secretCacheTtlSeconds: number;
  readonly minRefreshIntervalMs: number;
  readonly logger: CoreLogger;
  readonly metrics: CoreMetrics;
  readonly secretsManager?: SecretsManagerClient;
}

/** The key as usable text; the placeholder or an empty value is an unusable key (messages then show IDs). Never echoes the value. */
export function parseDodoApiKey(raw: string): string {
  const key = raw.trim();
  if (key === '' || key === SECRET_PLACEHOLDER) throw new SecretConfigurationError('the Dodo API key secret is not set yet');
  return key;
}

export function awsNameLookup(options: AwsNameLookupOptions): NameLookup {
  // Loaded here, not at the top: a deployment without a key never evaluates the SDK at cold start.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose: only functions with a Dodo API key load the SDK
  const { createDodoNameLookup, MemoryNameCache, NameLookupDefaults } = require('../dodo-names') as typeof import('../dodo-names');
  const key = new CachedSecret<string>({
    load: secretsManagerLoader(options.secretArn, options.secretsManager),
    parse: parseDodoApiKey,
    ttlMs: options.secretCacheTtlSeconds * 1000,
    minRefreshIntervalMs: options.minRefreshIntervalMs,
  });
  return createDodoNameLookup({
    apiKey: { get: () => key.get(), refresh: () => key.refresh() },
    ...(options.apiUrl === undefined ? {} : { apiUrl: options.apiUrl }),
    cache: new MemoryNameCache(NameLookupDefaults.maxEntries),
    logger: options.logger,
    metrics: options.metrics,
  });
}

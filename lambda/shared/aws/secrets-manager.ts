import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretConfigurationError } from '../errors';
import type { SecretSource } from '../ports';

let client: SecretsManagerClient | undefined;

/**
 * Loads a secret's current string value. Errors name the secret id (an ARN or name, not secret)
 * but never the value.
 */
export function secretsManagerLoader(secretId: string, secretsManager?: SecretsManagerClient): () => Promise<string> {
  return async () => {
    client ??= new SecretsManagerClient({});
    const result = await (secretsManager ?? client).send(new GetSecretValueCommand({ SecretId: secretId }));
    if (typeof result.SecretString !== 'string') {
      throw new SecretConfigurationError(`secret ${secretId} has no string value (binary secrets are not supported)`);
    }
    return result.SecretString;
  };
}

/** Secrets Manager as the pipeline's credential source: a route's `slackSecretId` is the secret's ARN. */
export function secretsManagerSource(options: { readonly minRefreshIntervalMs: number; readonly client?: SecretsManagerClient }): SecretSource {
  return {
    load: (secretId) => secretsManagerLoader(secretId, options.client)(),
    minRefreshIntervalMs: options.minRefreshIntervalMs,
  };
}

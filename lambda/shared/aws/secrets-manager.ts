import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretConfigurationError } from '../errors';

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

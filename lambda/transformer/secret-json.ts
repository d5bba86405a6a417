import { SecretConfigurationError } from '../shared/errors';

/**
 * The string `field` of a Slack secret stored as JSON (what the Secrets Manager console's
 * key/value editor writes), trimmed. `secret` names the secret in the errors ("the Slack webhook
 * secret"), `expected` shows the right shape (`{"url": "https://…"}`); neither error quotes the value.
 */
export function secretJsonField(value: string, field: string, secret: string, expected: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new SecretConfigurationError(`${secret} looks like JSON but does not parse (expected ${expected})`);
  }
  const found = (parsed as Record<string, unknown> | null)?.[field];
  if (typeof found !== 'string') throw new SecretConfigurationError(noField(field, secret, expected));
  return found.trim();
}

/** The error for JSON without the field, for callers that refuse more (an empty value). */
export function noField(field: string, secret: string, expected: string): string {
  return `${secret} JSON has no "${field}" string (expected ${expected})`;
}

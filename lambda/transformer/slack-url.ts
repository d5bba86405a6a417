import { SECRET_PLACEHOLDER } from '../shared/function-env';
import { SecretConfigurationError } from '../shared/errors';

export interface SlackUrlOptions {
  /**
   * Accept `http://127.0.0.1…` and `http://localhost…` (the local workbench and tests post to a
   * fake Slack on the loopback interface). Never set on AWS. @default false
   */
  readonly allowInsecureLocalhost?: boolean;
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Parses the Slack secret: the plain incoming-webhook URL, or JSON `{"url": "…"}`.
 * Throws SecretConfigurationError for the construct's placeholder (isPlaceholder = true) and for a
 * malformed value; messages describe the problem, never the value (it is a credential).
 */
export function parseSlackWebhookUrl(raw: string, options: SlackUrlOptions = {}): string {
  const value = raw.trim();
  if (value === SECRET_PLACEHOLDER || value === '') {
    throw new SecretConfigurationError(
      value === '' ? 'the Slack webhook secret is empty' : 'the Slack webhook secret still holds the placeholder; set it to the incoming-webhook URL',
      value !== '',
    );
  }
  const candidate = value.startsWith('{') ? urlFromJson(value) : value;
  if (candidate === SECRET_PLACEHOLDER) {
    throw new SecretConfigurationError('the Slack webhook secret still holds the placeholder; set it to the incoming-webhook URL', true);
  }
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new SecretConfigurationError('the Slack webhook secret is not a URL (expected https://hooks.slack.com/… or {"url": "https://…"})');
  }
  const isLocal = LOCAL_HOSTS.has(url.hostname);
  if (url.protocol === 'https:') return url.toString();
  if (url.protocol === 'http:' && isLocal && options.allowInsecureLocalhost) return url.toString();
  throw new SecretConfigurationError(`the Slack webhook URL must use https (got ${url.protocol.replace(':', '')})`);
}

function urlFromJson(value: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new SecretConfigurationError('the Slack webhook secret looks like JSON but does not parse (expected {"url": "https://…"})');
  }
  const url = (parsed as { url?: unknown } | null)?.url;
  if (typeof url !== 'string' || url.trim() === '') {
    throw new SecretConfigurationError('the Slack webhook secret JSON has no "url" string (expected {"url": "https://…"})');
  }
  return url.trim();
}

import { SECRET_PLACEHOLDER } from '../shared/function-env';
import { SecretConfigurationError } from '../shared/errors';
import { noField, secretJsonField } from './secret-json';

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

const URL_SECRET = 'the Slack webhook secret';
const URL_JSON = '{"url": "https://…"}';

function urlFromJson(value: string): string {
  const url = secretJsonField(value, 'url', URL_SECRET, URL_JSON);
  if (url === '') throw new SecretConfigurationError(noField('url', URL_SECRET, URL_JSON));
  return url;
}

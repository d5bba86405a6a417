import { SECRET_PLACEHOLDER } from '../shared/function-env';
import { SecretConfigurationError } from '../shared/errors';
import { secretJsonField } from './secret-json';

/** Bot tokens (`xoxb-…`), also in their rotating form (`xoxe.xoxb-…`). */
const BOT_TOKEN_SHAPE = /^(?:xoxe\.)?xoxb-[A-Za-z0-9-]+$/;

/**
 * Slack channel IDs as a channel's details show them: C… (public or private), G… (older private),
 * D… (a DM), upper-case letters and digits. A name (`#payments`) is refused: conversations.history,
 * which finds a post whose answer was lost, takes only IDs.
 */
export const CHANNEL_ID_SHAPE = /^[CGD][A-Z0-9]{2,}$/;

/**
 * Parses the Slack bot-token secret: the plain `xoxb-…` token, or JSON `{"token": "xoxb-…"}`.
 * Throws SecretConfigurationError (isPlaceholder for the construct's placeholder) naming the
 * problem, never the value: it is a credential.
 */
export function parseSlackBotToken(raw: string): string {
  const value = raw.trim();
  if (value === '') throw new SecretConfigurationError('the Slack bot token secret is empty');
  if (value === SECRET_PLACEHOLDER) {
    throw new SecretConfigurationError('the Slack bot token secret still holds the placeholder; set it to the xoxb-… token', true);
  }
  let token = value;
  if (value.startsWith('{')) {
    token = secretJsonField(value, 'token', 'the Slack bot token secret', '{"token": "xoxb-…"}');
    if (token === SECRET_PLACEHOLDER) throw new SecretConfigurationError('the Slack bot token secret still holds the placeholder; set it to the xoxb-… token', true);
  }
  if (!BOT_TOKEN_SHAPE.test(token)) {
    const kind = /^xox([a-z])-/.exec(token)?.[1];
    throw new SecretConfigurationError(
      kind !== undefined && kind !== 'b'
        ? `the Slack secret holds an xox${kind}- token; app mode needs the bot token (xoxb-…) from "OAuth & Permissions"`
        : 'the Slack bot token secret is not a bot token (expected xoxb-…)',
    );
  }
  return token;
}

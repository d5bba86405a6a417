/**
 * The Slack app manifest `dodo-slack slack-manifest` prints: a bot with exactly the scopes app mode
 * uses, nothing else (no events, no interactivity, no user scopes).
 *
 *   chat:write        chat.postMessage (parents, replies), chat.update (the card), chat.delete (a
 *                     duplicate parent two consumers raced to post; only the app's own messages)
 *   channels:history  conversations.history / conversations.replies in a public channel: finding a
 *                     post whose answer was lost before posting it again
 *   groups:history    the same in a private channel (instead of channels:history, with --private)
 */
import type { SlackApiMethod } from '../transformer/slack-web-api';

/**
 * The scope each Web API method app mode calls needs (a Record over every method the client can
 * call, so a new method cannot be added without its scope). `history` is the channel kind's.
 */
export const METHOD_SCOPES: Readonly<Record<SlackApiMethod, 'chat:write' | 'history'>> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'conversations.history': 'history',
  'conversations.replies': 'history',
};

export interface ManifestOptions {
  /** The app's and the bot's name in Slack. @default "Dodo Payments" */
  readonly name?: string;
  /** The channel is private: groups:history instead of channels:history. @default false */
  readonly privateChannel?: boolean;
}

/** The bot scopes app mode needs for a public (or, with `privateChannel`, private) channel. */
export function slackAppScopes(privateChannel = false): string[] {
  const history = privateChannel ? 'groups:history' : 'channels:history';
  return [...new Set(Object.values(METHOD_SCOPES).map((scope) => (scope === 'history' ? history : scope)))];
}

export function slackAppManifest(options: ManifestOptions = {}): Record<string, unknown> {
  const name = (options.name ?? 'Dodo Payments').trim();
  return {
    display_information: {
      name,
      description: 'Dodo Payments events: one thread per payment, subscription and payout, with a card kept up to date',
      background_color: '#0b3d2e',
    },
    features: { bot_user: { display_name: name.slice(0, 80), always_online: false } },
    oauth_config: { scopes: { bot: slackAppScopes(options.privateChannel === true) } },
    settings: { org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false },
  };
}

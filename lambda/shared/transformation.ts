/**
 * What a transformation is to the rest of the flow: its serialisable spec (set by the construct,
 * read by the transformer), what it gets for one event and what it decides.
 */

/** Options of the built-in templates (`Transformation.builtin(options)`). */
export interface BuiltinTemplateOptions {
  /** Show customer emails as `a***@example.com`. @default false */
  readonly maskCustomerEmails?: boolean;
  /** Leave customer names out of messages. @default false */
  readonly hideCustomerNames?: boolean;
  /** Base URL of the Dodo dashboard; when set, messages get "Open in Dodo" link buttons. @default - no buttons */
  readonly dashboardBaseUrl?: string;
  /**
   * Mentions to prepend per event-type glob, e.g. `{ 'dispute.opened': '<!here>' }`.
   * These are trusted operator configuration and are not escaped. @default - none
   */
  readonly mentions?: Readonly<Record<string, string>>;
}

/**
 * How one route turns an event into a Slack message; serialisable, so the construct can hand it
 * to the transformer function. `code` transformations reference code embedded into the bundle
 * (see lambda/sandbox/registry.ts) by `codeId`.
 */
export type TransformationSpec =
  | { readonly kind: 'builtin'; readonly options: BuiltinTemplateOptions }
  | { readonly kind: 'code'; readonly codeId: string; readonly timeoutMs: number };

/**
 * A Slack message as posted to an incoming webhook. Block and attachment shapes come from
 * `@slack/types`, so a template with a wrong field fails to compile.
 */
export interface SlackMessage {
  /** Notification fallback (phones, screen readers); required by us even when blocks are present. */
  readonly text: string;
  readonly blocks?: import('@slack/types').KnownBlock[];
  readonly attachments?: import('@slack/types').MessageAttachment[];
  readonly unfurl_links?: boolean;
  readonly unfurl_media?: boolean;
  /** Slack message metadata; roll-ups list the webhook-ids they cover here (lambda/messages/templates/rollup.ts). */
  readonly metadata?: import('@slack/types').MessageMetadata;
  /**
   * Slack app mode: the thread this message goes in (`payment:pay_…`, or any key of 1-200
   * `A-Z a-z 0-9 _ . : -`), or `null` for none; unset = the thread-key table's choice. Removed
   * before posting.
   */
  readonly thread_key?: string | null;
}

/** What a transformation gets for one event. */
export interface TransformInput {
  readonly webhookId: string;
  readonly eventType: string;
  /** The parsed Dodo body. */
  readonly envelope: import('./webhook').DodoWebhookEnvelope;
  /** The raw Dodo body, exactly as received. */
  readonly rawBody: string;
  /** Standard Webhooks headers of the original request (`webhook-id`, `webhook-timestamp`). */
  readonly headers: Readonly<Record<string, string>>;
  /** Built-in templates: names the Dodo API gave for the IDs the event carries (absent without a Dodo API key). */
  readonly names?: import('./names').KnownNames;
}

/** What a transformation decided for one event. A failure is a rejected promise with a TransformationError. */
export type TransformOutcome =
  | { readonly kind: 'message'; readonly message: SlackMessage }
  | { readonly kind: 'skip'; readonly reason: string };

export type Transform = (input: TransformInput) => Promise<TransformOutcome>;

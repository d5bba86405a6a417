/** What a Dodo webhook is on its way through the flow: the HTTP request, then the queued event. */

/** Path Dodo posts to, on API Gateway and on the local server. */
export const WEBHOOK_PATH = '/webhooks/dodo';

/**
 * Largest raw webhook body the receiver accepts (bytes). SQS takes 256 KiB per message including
 * attributes; this leaves room for them. Larger bodies get 413.
 */
export const MAX_BODY_BYTES = 200 * 1024;

/** The Dodo webhook envelope (`data` is typed per event family by the templates). */
export interface DodoWebhookEnvelope {
  readonly business_id: string;
  readonly type: string;
  readonly timestamp: string;
  readonly data: Record<string, unknown>;
}

/**
 * Which of Dodo's dashboards sent a webhook: its test mode and live mode each sign with their own
 * key, and the receiver records which one verified the request (the payload itself does not say).
 */
export type WebhookMode = 'live' | 'test';

/** The modes a route takes when it names none. */
export const WEBHOOK_MODES: readonly WebhookMode[] = ['live', 'test'];

/** A verified webhook as it travels through the queue (SQS body = `body`, the rest = attributes). */
export interface QueuedWebhook {
  readonly webhookId: string;
  /** Unix seconds, as Dodo sent it in `webhook-timestamp`. */
  readonly webhookTimestamp: string;
  readonly eventType: string;
  /** The raw body exactly as Dodo sent it; for a precomposed record, `{ route, message }`. */
  readonly body: string;
  /**
   * Set only by the summaries (never by the receiver): the body is a finished Slack message for one
   * route, posted without a transformation and not counted in the summaries.
   */
  readonly precomposed?: true;
  /** The mode whose signing key verified the request; absent means live (and on records queued before modes existed). */
  readonly mode?: WebhookMode;
}

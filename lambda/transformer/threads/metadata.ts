/**
 * Slack message metadata on every message the app posts (parents, replies, standalone messages):
 * it is how a post whose answer never came is found again (conversations.history / replies with
 * `include_all_metadata`), so a retry does not post it twice. Shapes from `@slack/types`.
 */
import type { MessageMetadata } from '@slack/types';

/** `metadata.event_type` of our messages (Slack: letters, digits and underscores). */
export const METADATA_EVENT_TYPE = 'dodo_webhook';

/** What a message is in its thread. */
export type MessageRole = 'parent' | 'reply' | 'message';

export interface DodoMessageMetadata extends MessageMetadata {
  readonly event_type: typeof METADATA_EVENT_TYPE;
  readonly event_payload: {
    /** The Standard Webhooks `webhook-id` of the event the message was posted for. */
    readonly webhook_id: string;
    /** The route that posted it (two routes may post the same webhook to one channel). */
    readonly route: string;
    readonly role: MessageRole;
    /** The Dodo event type (`dispute.opened`). */
    readonly dodo_event_type: string;
    /** The thread key (`payment:pay_…`), empty for a message without a thread. */
    readonly thread_key: string;
  };
}

export interface MetadataFields {
  readonly webhookId: string;
  readonly route: string;
  readonly role: MessageRole;
  readonly eventType: string;
  readonly threadKey: string | undefined;
}

export function messageMetadata(fields: MetadataFields): DodoMessageMetadata {
  return {
    event_type: METADATA_EVENT_TYPE,
    event_payload: {
      webhook_id: fields.webhookId,
      route: fields.route,
      role: fields.role,
      dodo_event_type: fields.eventType,
      thread_key: fields.threadKey ?? '',
    },
  };
}

/** Whether a message Slack returned (history / replies) is the one posted for this webhook, route and role. */
export function isOurMessage(message: unknown, webhookId: string, route: string, role: MessageRole): boolean {
  const metadata = (message as { metadata?: { event_type?: unknown; event_payload?: Record<string, unknown> } } | null)?.metadata;
  if (metadata?.event_type !== METADATA_EVENT_TYPE) return false;
  const payload = metadata.event_payload ?? {};
  return payload.webhook_id === webhookId && payload.route === route && payload.role === role;
}

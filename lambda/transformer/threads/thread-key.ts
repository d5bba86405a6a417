/**
 * Which Slack thread an event belongs to (Slack app mode): one thread per Dodo object, so a
 * payment's refunds and disputes, a subscription's life, a payout's progress each read as one story.
 *
 * | Events                                   | Thread key                                         |
 * |------------------------------------------|----------------------------------------------------|
 * | payment.* of a subscription (renewals)   | `subscription:<data.subscription_id>`              |
 * | payment.* (one-off)                      | `payment:<data.payment_id>`                        |
 * | refund.*, dispute.*                      | `payment:<data.payment_id>`                        |
 * | subscription.*, dunning.*                | `subscription:<data.subscription_id>`              |
 * | payout.*                                 | `payout:<data.payout_id>`                          |
 * | license_key.*, entitlement_grant.*       | `subscription:<subscription_id>`, else `payment:<payment_id>` |
 * | abandoned_checkout.*                     | `payment:<data.payment_id>` (the abandoned payment) |
 * | credit.* naming a subscription           | `subscription:<subscription_id or a sub_ reference_id>` |
 * | other credit.*, unknown event types      | no thread: a message of its own, no card           |
 *
 * A refund or dispute of a renewal payment carries only `payment_id`, so it opens a thread of that
 * payment: nothing in it says which subscription the payment renewed.
 *
 * Pure: the key comes from the envelope alone, so out-of-order events find the same thread.
 */
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { canonicalEventType } from '../../shared/event-glob';

/** The kind of object a thread (and its card) is about. */
export type ThreadKind = 'payment' | 'subscription' | 'payout';

/** `kind:id`, e.g. `payment:pay_123`. Also what a user transformation may return in `thread_key`. */
export type ThreadKey = string;

const ID_SHAPE = /^[A-Za-z0-9_-]{1,128}$/;

function id(value: unknown): string | undefined {
  return typeof value === 'string' && ID_SHAPE.test(value) ? value : undefined;
}

function key(kind: ThreadKind, value: unknown): ThreadKey | undefined {
  const objectId = id(value);
  return objectId === undefined ? undefined : `${kind}:${objectId}`;
}

/** The thread key the table above gives `envelope`; undefined when the event has no thread. */
export function threadKeyOf(envelope: DodoWebhookEnvelope): ThreadKey | undefined {
  const data = (typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {});
  const type = canonicalEventType(typeof envelope.type === 'string' ? envelope.type : '');
  const family = type.split('.')[0];
  switch (family) {
    case 'payment':
      return key('subscription', data.subscription_id) ?? key('payment', data.payment_id);
    case 'refund':
    case 'dispute':
    case 'abandoned_checkout':
      return key('payment', data.payment_id);
    case 'subscription':
    case 'dunning':
      return key('subscription', data.subscription_id);
    case 'payout':
      return key('payout', data.payout_id);
    case 'license_key':
    case 'entitlement_grant':
      return key('subscription', data.subscription_id) ?? key('payment', data.payment_id);
    case 'credit': {
      const reference = id(data.reference_id);
      return key('subscription', data.subscription_id) ?? (reference?.startsWith('sub_') ? `subscription:${reference}` : undefined);
    }
    default:
      return undefined;
  }
}

/** The kind of a thread key (`payment:pay_1` → `payment`); undefined for a key a transformation made up. */
export function threadKindOf(threadKey: ThreadKey): ThreadKind | undefined {
  const kind = threadKey.slice(0, threadKey.indexOf(':'));
  return kind === 'payment' || kind === 'subscription' || kind === 'payout' ? kind : undefined;
}

/** Shape a thread key chosen by a user transformation must have: short, printable, no spaces. */
export const THREAD_KEY_SHAPE = /^[A-Za-z0-9_.:-]{1,200}$/;

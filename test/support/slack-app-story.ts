import { fixtureBody } from './delivery';

/** A fixture body with its envelope `timestamp` set (the card orders events by it). */
export function eventAt(type: string, timestamp: string, data: Record<string, unknown> = {}): string {
  const envelope = JSON.parse(fixtureBody(type)) as { timestamp: string; data: Record<string, unknown> };
  envelope.timestamp = timestamp;
  Object.assign(envelope.data, data);
  return JSON.stringify(envelope);
}

/** One payment's story, in the order it happened (all about pay_gr4RizvMOXFJ6xca3y2tU). */
export const PAYMENT_STORY: readonly { readonly type: string; readonly body: string }[] = [
  { type: 'payment.succeeded', body: eventAt('payment.succeeded', '2026-03-14T09:26:53.000Z') },
  { type: 'refund.succeeded', body: eventAt('refund.succeeded', '2026-03-15T11:02:14.000Z', { amount: 1000, is_partial: true }) },
  { type: 'dispute.opened', body: eventAt('dispute.opened', '2026-03-20T08:00:05.000Z') },
  { type: 'dispute.won', body: eventAt('dispute.won', '2026-04-09T08:00:05.000Z') },
];

export const PAYMENT_ID = 'pay_gr4RizvMOXFJ6xca3y2tU';

/** The text of a message's card as Slack shows it (top-level text and the attachment's blocks). */
export function shownText(message: { text?: string; attachments?: unknown[] }): string {
  return `${message.text ?? ''}\n${JSON.stringify(message.attachments ?? [])}`;
}

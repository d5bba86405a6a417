/**
 * The message for an event type we have no template for yet (Dodo adds types): readable, never
 * raw JSON. It shows the event name and the scalar top-level fields of `data` that look useful.
 */
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { canonicalEventType } from '../../shared/event-glob';
import { formatMinorUnits } from '../money';
import { sentence } from './common';
import { buildMessage, code, date, type Fact, humanize, plain, str, type Tone } from './layout';

/** How a family template presents one of its event types: colour and headline. */
export interface EventStyle {
  readonly tone: Tone;
  readonly headline: string;
}

/**
 * The family table's style for an event type (legacy names mapped to their successor), or a
 * neutral one named after the type, for a type Dodo adds to the family later.
 */
export function eventStyle(table: Readonly<Record<string, EventStyle>>, eventType: string): EventStyle {
  return table[canonicalEventType(eventType)] ?? { tone: 'info', headline: describeEventType(eventType) };
}

/** At most this many fields from an unknown payload; Slack shows 10 per section. */
const MAX_GENERIC_FACTS = 10;

/** "subscription.plan_changed" → "Subscription plan changed". */
export function describeEventType(eventType: string): string {
  // The headline is plain_text, where escaping does not apply: keep only harmless characters.
  const words = eventType.replace(/[^A-Za-z0-9]+/g, ' ').trim().slice(0, 100);
  if (words === '') return 'Dodo event';
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function renderGeneric(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  const data = envelope.data ?? {};
  const facts: Fact[] = [];
  const ids: Fact[] = [];
  for (const [key, value] of Object.entries(data)) {
    if (key === 'payload_type' || key === 'business_id') continue;
    const text = str(value);
    if (text === undefined) continue;
    // Anything that looks like a secret key is left out of a message we know nothing about.
    if (/key|secret|token|password/i.test(key)) continue;
    if (key.endsWith('_id')) ids.push({ label: humanize(key) ?? key, value: code(text) });
    else if (key.endsWith('_at')) facts.push({ label: humanize(key) ?? key, value: date(value) ?? plain(text) });
    else if (/(^|_)amount$/.test(key) && typeof value === 'number') {
      // Unknown shapes follow Dodo's convention (integer minor units next to `currency`); without a
      // currency the number is shown as it is rather than guessed at.
      const money = formatMinorUnits(value, data.currency);
      facts.push({ label: humanize(key) ?? key, value: plain(money ?? text) });
    }
    else facts.push({ label: humanize(key) ?? key, value: plain(text, 500) });
  }
  const customerId = (data.customer as Record<string, unknown> | undefined)?.customer_id;
  if (str(customerId)) ids.push({ label: 'customer', value: code(String(customerId)) });
  return buildMessage(
    {
      tone: 'info',
      headline: describeEventType(envelope.type),
      // The notification carries what a reader acts on first: an amount and a status, if any.
      summary: sentence(genericAmount(data), humanize(data.status) && `(${humanize(data.status)})`),
      details: { label: 'About this message', text: 'This notifier has no template for this event type yet; these are its fields.' },
      facts: facts.slice(0, MAX_GENERIC_FACTS),
      ids: ids.slice(0, 8),
    },
    envelope,
    options,
  );
}

/** The first amount-like field, formatted with the payload's currency, if there is one. */
function genericAmount(data: Record<string, unknown>): string | undefined {
  for (const key of ['total_amount', 'amount']) {
    const money = formatMinorUnits(data[key], data.currency);
    if (money) return money;
  }
  return undefined;
}

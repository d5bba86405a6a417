/**
 * The roll-up message: one Slack message standing for many events of one route, posted
 * when the route's backlog would keep events waiting longer than `rollupAfter` at Slack's pace.
 *
 *   - top-level `text`: "<N> events rolled up while Slack was behind: …" — the number of events the
 *     message covers, written as digits followed by ` events` (the contract the checks use; no other
 *     message says that), then the counts by type;
 *   - one attachment per event family (most events first): counts by type with per-currency totals
 *     (ISO 4217 minor units, lambda/messages/money.ts), the events that matter listed one by one
 *     (failures first, then the largest amounts; capped), and the family's page in the dashboard;
 *   - `metadata`: the webhook-ids it covers, so a reader (the bench's Slack stand-in, an app) can
 *     tell exactly which events the message stands for.
 *
 * Pure and deterministic, like every template; payload text goes through the layout's escaping.
 * With `names` (look-ups' product names), a listed event says what it was for.
 */
import type { ActionsBlock, Button, KnownBlock, MessageAttachment } from '@slack/types';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { canonicalEventType } from '../../shared/event-glob';
import { currencyCode, formatMinorUnits, parseMinorUnits } from '../money';
import { escapeMrkdwn, slackDate, truncate } from '../mrkdwn';
import { SlackLimits, validateSlackMessage } from '../slack-limits';
import { cartProductIds, productName, type KnownNames } from '../../shared/names';
import { customerLabel, DASHBOARD_PAGES } from './common';
import { describeEventType } from './generic';
import { code, dashboardUrl, mentionFor, oneLine, parseDate, str } from './layout';

/** One event a roll-up covers. */
export interface RollupItem {
  readonly webhookId: string;
  readonly eventType: string;
  readonly envelope: DodoWebhookEnvelope;
}

/** `metadata.event_type` of a roll-up message. */
export const ROLLUP_METADATA_TYPE = 'dodo_slack_rollup';

/** Events listed one by one per family, and families shown (3 blocks each, within Slack's 50). */
const LISTED_PER_FAMILY = 5;
const MAX_FAMILIES = 12;
const MAX_TEXT = 3000;

/** Last segments of event types that are failures: listed first, coloured danger. */
const FAILURE_WORDS: ReadonlySet<string> = new Set(['failed', 'cancelled', 'on_hold', 'expired', 'lost', 'revoked', 'balance_low']);

const FAMILY_TITLES: Readonly<Record<string, string>> = {
  payment: 'Payments',
  refund: 'Refunds',
  dispute: 'Disputes',
  subscription: 'Subscriptions',
  license_key: 'License keys',
  payout: 'Payouts',
  credit: 'Credits',
  abandoned_checkout: 'Abandoned checkouts',
  dunning: 'Dunning',
  entitlement_grant: 'Entitlement grants',
};

/** Dashboard page per family (lambda/messages/templates/common.ts), for the family's list and its objects. */
const FAMILY_PAGES: Readonly<Record<string, { readonly page: keyof typeof DASHBOARD_PAGES; readonly idField: string }>> = {
  payment: { page: 'payment', idField: 'payment_id' },
  refund: { page: 'refund', idField: 'refund_id' },
  dispute: { page: 'dispute', idField: 'dispute_id' },
  subscription: { page: 'subscription', idField: 'subscription_id' },
  license_key: { page: 'licenseKey', idField: 'id' },
  payout: { page: 'payout', idField: 'payout_id' },
};

function familyOf(eventType: string): string {
  return canonicalEventType(eventType).split('.')[0] || 'other';
}

export function isFailureType(eventType: string): boolean {
  const last = canonicalEventType(eventType).split('.').pop() ?? '';
  return FAILURE_WORDS.has(last);
}

/** The money an event is about, in minor units, when its payload says. */
export function amountOf(data: Record<string, unknown>): { readonly minor: number; readonly currency: string } | undefined {
  const currency = currencyCode(data.currency);
  if (currency === undefined) return undefined;
  for (const field of ['total_amount', 'amount', 'recurring_pre_tax_amount']) {
    const minor = parseMinorUnits(data[field]);
    if (minor !== undefined) return { minor, currency };
  }
  return undefined;
}

function objectIdOf(family: string, data: Record<string, unknown>): string | undefined {
  const field = FAMILY_PAGES[family]?.idField;
  return (field && str(data[field])) || str(data.payment_id) || str(data.subscription_id) || undefined;
}

interface TypeTotals {
  count: number;
  /** Currency → minor units. */
  readonly totals: Map<string, number>;
}

interface Family {
  readonly name: string;
  readonly items: RollupItem[];
  readonly types: Map<string, TypeTotals>;
}

/** `$1,234.00 + €20.00` from per-currency minor-unit totals (biggest first by count of digits is meaningless across currencies: alphabetical). */
function totalsText(totals: ReadonlyMap<string, number>): string {
  return [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, minor]) => formatMinorUnits(minor, currency) ?? `${minor} ${currency}`)
    .join(' + ');
}

function typeLine(type: string, totals: TypeTotals): string {
  const money = totals.totals.size > 0 ? ` · ${escapeMrkdwn(totalsText(totals.totals))}` : '';
  return `${code(type, 100)} ×${totals.count}${money}`;
}

/** The events worth a line of their own: failures first (newest first), then the largest amounts. */
function noteworthy(family: Family, max: number): RollupItem[] {
  const failures = family.items.filter((item) => isFailureType(item.eventType));
  const rest = family.items
    .filter((item) => !isFailureType(item.eventType))
    .map((item) => ({ item, amount: amountOf(item.envelope.data ?? {}) }))
    .filter((entry) => entry.amount !== undefined && entry.amount.minor > 0)
    // Across currencies "largest" compares minor units at face value: a fair-enough ordering for a shortlist.
    .sort((a, b) => b.amount!.minor - a.amount!.minor)
    .map((entry) => entry.item);
  return [...failures, ...rest].slice(0, max);
}

/** The names of the products an event is about, when look-ups found them (none otherwise: the line stays as it was). */
function productNames(data: Record<string, unknown>, names: KnownNames | undefined): string | undefined {
  if (names === undefined) return undefined;
  const ids = [...cartProductIds(data.product_cart), ...(typeof data.product_id === 'string' ? [data.product_id] : [])];
  const found = [...new Set(ids)].map((id) => productName(names, id)).filter((name): name is string => name !== undefined);
  return found.length > 0 ? found.slice(0, 3).join(', ') : undefined;
}

function itemLine(item: RollupItem, family: string, options: BuiltinTemplateOptions, names?: KnownNames): string {
  const data = item.envelope.data ?? {};
  const amount = amountOf(data);
  const money = amount ? formatMinorUnits(amount.minor, amount.currency) : undefined;
  const who = customerLabel(data.customer as Parameters<typeof customerLabel>[0], options);
  const reason = isFailureType(item.eventType) ? str(data.error_code) ?? str(data.reason) : undefined;
  const parts = [describeEventType(canonicalEventType(item.eventType)), money, who && `from ${who}`, productNames(data, names), reason && `(${reason})`].filter(
    (part): part is string => typeof part === 'string' && part !== '',
  );
  const id = objectIdOf(family, data);
  const page = FAMILY_PAGES[family];
  const url = id && page ? dashboardUrl(options.dashboardBaseUrl, [...DASHBOARD_PAGES[page.page].path, ...(page.page === 'payout' ? [] : [id])]) : undefined;
  const idText = id === undefined ? '' : url ? ` <${url}|${escapeMrkdwn(truncate(id, 100))}>` : ` ${code(id)}`;
  return `• ${escapeMrkdwn(truncate(oneLine(parts.join(' · ')), 300))}${idText}`;
}

function familyAttachment(family: Family, options: BuiltinTemplateOptions, listed: number, names?: KnownNames): MessageAttachment {
  const title = FAMILY_TITLES[family.name] ?? describeEventType(family.name);
  const types = [...family.types.entries()].sort((a, b) => b[1].count - a[1].count || a[0].localeCompare(b[0]));
  const lines = types.map(([type, totals]) => typeLine(type, totals));
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(title)}* (${family.items.length})\n${lines.join('\n')}`, SlackLimits.sectionText) } },
  ];
  const notable = noteworthy(family, listed);
  if (notable.length > 0) {
    const header = notable.some((item) => isFailureType(item.eventType)) ? '*Worth a look*' : '*Largest*';
    const body = notable.map((item) => itemLine(item, family.name, options, names));
    // Whole lines only: a cut link would render as raw text.
    let text = header;
    for (const line of body) {
      if (text.length + 1 + line.length > SlackLimits.sectionText) break;
      text += `\n${line}`;
    }
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text } });
  }
  const page = FAMILY_PAGES[family.name];
  const listUrl = page ? dashboardUrl(options.dashboardBaseUrl, DASHBOARD_PAGES[page.page].path) : undefined;
  if (listUrl) {
    const button: Button = { type: 'button', text: { type: 'plain_text', text: truncate(`Open ${title.toLowerCase()} in Dodo`, SlackLimits.buttonText) }, url: listUrl };
    const actions: ActionsBlock = { type: 'actions', elements: [button] };
    blocks.push(actions);
  }
  const hasFailure = family.items.some((item) => isFailureType(item.eventType));
  return {
    color: hasFailure ? 'danger' : family.name === 'refund' ? 'warning' : 'good',
    fallback: truncate(escapeMrkdwn(`${title}: ${types.map(([type, totals]) => `${type} ×${totals.count}`).join(', ')}`), 3000),
    blocks,
  };
}

/**
 * One roll-up message for `items` (at least one). Counts distinct webhook-ids: a webhook-id that
 * appears twice (a redelivery still pending beside the original) is one event.
 */
export function renderRollupMessage(items: readonly RollupItem[], options: BuiltinTemplateOptions = {}, names?: KnownNames): SlackMessage {
  const unique = new Map<string, RollupItem>();
  for (const item of items) if (!unique.has(item.webhookId)) unique.set(item.webhookId, item);
  const events = [...unique.values()];
  const families = new Map<string, Family>();
  for (const item of events) {
    const name = familyOf(item.eventType);
    let family = families.get(name);
    if (!family) families.set(name, (family = { name, items: [], types: new Map() }));
    family.items.push(item);
    const type = canonicalEventType(item.eventType);
    let totals = family.types.get(type);
    if (!totals) family.types.set(type, (totals = { count: 0, totals: new Map() }));
    totals.count += 1;
    const amount = amountOf(item.envelope.data ?? {});
    if (amount) totals.totals.set(amount.currency, (totals.totals.get(amount.currency) ?? 0) + amount.minor);
  }
  const ordered = [...families.values()].sort((a, b) => b.items.length - a.items.length || a.name.localeCompare(b.name));

  const typeCounts = ordered.flatMap((family) => [...family.types.entries()].map(([type, totals]) => ({ type, count: totals.count })));
  typeCounts.sort((a, b) => b.count - a.count || a.type.localeCompare(b.type));
  const mentions = [...new Set(events.map((item) => mentionFor(item.eventType, options.mentions)).filter((m): m is string => m !== undefined))];
  const head = `${events.length} events rolled up while Slack was behind`;
  let text = [...mentions, escapeMrkdwn(head)].join(' ');
  let first = true;
  for (const { type, count } of typeCounts) {
    const piece = `${first ? ': ' : ', '}${escapeMrkdwn(type)} ×${count}`;
    if (text.length + piece.length > MAX_TEXT - 2) {
      text += ', …';
      break;
    }
    text += piece;
    first = false;
  }

  const shown = ordered.slice(0, MAX_FAMILIES);
  const attachments = shown.map((family) => familyAttachment(family, options, LISTED_PER_FAMILY, names));
  const hidden = ordered.slice(MAX_FAMILIES);
  const times = events.map((item) => parseDate(item.envelope.timestamp)).filter((ms): ms is number => ms !== undefined);
  const context: string[] = [];
  if (hidden.length > 0) context.push(`and ${hidden.reduce((n, f) => n + f.items.length, 0)} more in ${hidden.map((f) => escapeMrkdwn(f.name)).join(', ')}`);
  if (times.length > 0) {
    const from = Math.min(...times);
    const to = Math.max(...times);
    context.push(`${slackDate(from / 1000, new Date(from).toISOString())} – ${slackDate(to / 1000, new Date(to).toISOString())}`);
  }
  context.push('one message for many: events that must never be folded (disputes, payout failures) keep their own');
  const last = attachments[attachments.length - 1];
  if (last?.blocks) last.blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(context.join(' · '), SlackLimits.textObject) }] });

  const message: SlackMessage = {
    text,
    attachments,
    metadata: { event_type: ROLLUP_METADATA_TYPE, event_payload: { events: events.length, webhook_ids: events.map((item) => item.webhookId).join(' ') } },
  };
  const problems = validateSlackMessage(message);
  // Every piece above is cut to its limit; this is the guard that they add up.
  if (problems.length > 0) throw new Error(`roll-up message breaks Slack's limits: ${problems.join('; ')}`);
  return message;
}

/** The webhook-ids a message covers when it is a roll-up (from its metadata); undefined for any other message. */
export function rollupCoverage(message: unknown): string[] | undefined {
  const metadata = (message as { metadata?: { event_type?: unknown; event_payload?: { webhook_ids?: unknown } } } | null)?.metadata;
  if (metadata?.event_type !== ROLLUP_METADATA_TYPE || typeof metadata.event_payload?.webhook_ids !== 'string') return undefined;
  return metadata.event_payload.webhook_ids.split(' ').filter((id) => id !== '');
}

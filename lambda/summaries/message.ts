/**
 * The summary as a Slack message, in the layout of the built-in templates: a one-line `text`
 * (what Slack shows as the body and the notification), then one attachment with a section per
 * currency, the subscriptions, the top failure reasons, late arrivals and a footer naming the
 * window, the time zone and when it was computed. Pure: the caller passes the totals and the time.
 */
import type { ContextBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { SlackMessage } from '../shared/transformation';
import { formatMinorUnits } from '../messages/money';
import { escapeMrkdwn, truncate } from '../messages/mrkdwn';
import { SlackLimits } from '../messages/slack-limits';
import { productName, type KnownNames } from '../shared/names';
import { TEST_LEFT_OUT, UNCOUNTED, type Counters } from './facts';
import { localDateTime, offsetLabel, periodLabel, type Period } from './period';

/** Late arrivals for an earlier period, already posted: what they added since. */
export interface LateArrivals {
  readonly period: Period;
  /** The counters that arrived after that period's summary was posted. */
  readonly added: Counters;
}

export interface SummaryInput {
  readonly period: Period;
  readonly totals: Counters;
  /** The previous period's totals, as they stand now (late arrivals included). */
  readonly previous: Counters;
  readonly late?: readonly LateArrivals[];
  readonly computedAtMs: number;
  /** Product names found by look-ups: the top products are named, with their ID after. @default - IDs only */
  readonly names?: KnownNames;
}

/** The product IDs a summary of these totals would show (the top three of each currency): what is worth a look-up. */
export function summaryProductIds(totals: Counters): string[] {
  return [...new Set(currencyTotals(totals).flatMap((entry) => entry.products.slice(0, TOP_PRODUCTS).map((product) => product.productId)))];
}

const TOP_PRODUCTS = 3;

/** Figures of one currency, read from the counters. */
export interface CurrencyTotals {
  readonly currency: string;
  readonly payments: number;
  readonly gross: number;
  readonly refunds: number;
  readonly refunded: number;
  readonly net: number;
  readonly failed: number;
  readonly failedAmount: number;
  readonly disputes: Readonly<Record<'opened' | 'won' | 'lost', { readonly count: number; readonly amount: number }>>;
  readonly mrrGained: number;
  readonly mrrLost: number;
  /** Revenue by product id, largest first. */
  readonly products: readonly { readonly productId: string; readonly revenue: number }[];
}

const CURRENCY_KEYS = /^(pay\.n|pay\.gross|refund\.n|refund\.amount|fail\.n|fail\.amount|dispute\.(?:opened|won|lost)\.(?:n|amount)|mrr\.gained|mrr\.lost|product)\|([A-Z]{3})(?:\|(.+))?$/;

/** Every currency that appears in `counters`, alphabetically, with its figures. */
export function currencyTotals(counters: Counters): CurrencyTotals[] {
  const byCurrency = new Map<string, Record<string, number>>();
  const products = new Map<string, Map<string, number>>();
  for (const [name, value] of Object.entries(counters)) {
    const match = CURRENCY_KEYS.exec(name);
    if (!match) continue;
    const [, metric, currency] = match as unknown as [string, string, string, string | undefined];
    const figures = byCurrency.get(currency) ?? {};
    byCurrency.set(currency, figures);
    if (metric === 'product') {
      const list = products.get(currency) ?? new Map<string, number>();
      products.set(currency, list);
      list.set(match[3], (list.get(match[3]) ?? 0) + value);
    } else {
      figures[metric] = (figures[metric] ?? 0) + value;
    }
  }
  return [...byCurrency.keys()].sort().map((currency) => {
    const f = byCurrency.get(currency)!;
    const get = (name: string) => f[name] ?? 0;
    const stage = (name: 'opened' | 'won' | 'lost') => ({ count: get(`dispute.${name}.n`), amount: get(`dispute.${name}.amount`) });
    return {
      currency,
      payments: get('pay.n'),
      gross: get('pay.gross'),
      refunds: get('refund.n'),
      refunded: get('refund.amount'),
      net: get('pay.gross') - get('refund.amount'),
      failed: get('fail.n'),
      failedAmount: get('fail.amount'),
      disputes: { opened: stage('opened'), won: stage('won'), lost: stage('lost') },
      mrrGained: get('mrr.gained'),
      mrrLost: get('mrr.lost'),
      products: [...(products.get(currency) ?? new Map<string, number>()).entries()]
        .map(([productId, revenue]) => ({ productId, revenue }))
        .sort((a, b) => b.revenue - a.revenue || a.productId.localeCompare(b.productId)),
    };
  });
}

/** Failure reasons, most frequent first. */
export function failureReasons(counters: Counters): { readonly reason: string; readonly count: number }[] {
  return Object.entries(counters)
    .filter(([name, count]) => name.startsWith('failreason|') && count > 0)
    .map(([name, count]) => ({ reason: name.slice('failreason|'.length), count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** `$29.99` as the templates format money; the code and the digits when a value cannot be formatted. */
function money(minor: number, currency: string): string {
  return formatMinorUnits(minor, currency) ?? `${minor} ${currency} minor units`;
}

/** A signed amount: `+$10.00`, `-$5.00`. */
function signedMoney(minor: number, currency: string): string {
  return minor < 0 ? `-${money(-minor, currency)}` : `+${money(minor, currency)}`;
}

/**
 * The change against the previous period: `▲ 12%`, `▼ 5%`, `= 0%`, `▲ new` (nothing before);
 * undefined when both are zero. Percentages against the absolute previous value (net can be negative).
 */
export function changeLabel(current: number, previous: number): string | undefined {
  if (current === 0 && previous === 0) return undefined;
  if (previous === 0) return current > 0 ? '▲ new' : '▼ new';
  if (current === previous) return '= 0%';
  const percent = ((current - previous) / Math.abs(previous)) * 100;
  const rounded = Math.abs(percent) < 10 ? Math.round(Math.abs(percent) * 10) / 10 : Math.round(Math.abs(percent));
  return `${current > previous ? '▲' : '▼'} ${rounded}%`;
}

const plural = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;

function field(label: string, value: string): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: truncate(`*${escapeMrkdwn(label)}*\n${value}`, SlackLimits.sectionFieldText) };
}

/** A product id in backticks, escaped, backticks inside dropped. */
function codeText(raw: string): string {
  return `\`${escapeMrkdwn(raw.replace(/`/g, "'"))}\``;
}

/** A product: its name and ID when a look-up found the name, else the ID. */
function productText(productId: string, names: KnownNames | undefined): string {
  const name = productName(names, productId);
  return name === undefined ? codeText(productId) : `${escapeMrkdwn(truncate(name, 100))} (${codeText(productId)})`;
}

function currencySection(now: CurrencyTotals, before: CurrencyTotals | undefined, versus: string, names?: KnownNames): SectionBlock {
  const change = (current: number, previous: number | undefined) => {
    const label = changeLabel(current, previous ?? 0);
    return label === undefined ? '' : ` ${label} ${versus}`;
  };
  const fields = [
    field('Gross', `${money(now.gross, now.currency)} from ${plural(now.payments, 'payment')}${change(now.gross, before?.gross)}`),
    field('Refunds', now.refunds === 0 ? 'none' : `${money(now.refunded, now.currency)} (${plural(now.refunds, 'refund')})`),
    field('Net', `${money(now.net, now.currency)}${change(now.net, before?.net)}`),
  ];
  if (now.failed > 0) fields.push(field('Failed payments', `${now.failed}, ${money(now.failedAmount, now.currency)}`));
  const { opened, won, lost } = now.disputes;
  if (opened.count + won.count + lost.count > 0) {
    const part = (label: string, stage: { count: number; amount: number }) =>
      `${label} ${stage.count}${stage.count > 0 ? ` (${money(stage.amount, now.currency)})` : ''}`;
    fields.push(field('Disputes', [part('opened', opened), part('won', won), part('lost', lost)].join(' · ')));
  }
  if (now.mrrGained !== 0 || now.mrrLost !== 0) {
    fields.push(
      field('MRR', `gained ${money(now.mrrGained, now.currency)} · lost ${money(now.mrrLost, now.currency)} · net ${signedMoney(now.mrrGained - now.mrrLost, now.currency)} /month`),
    );
  }
  if (now.products.length > 0) {
    const top = now.products.slice(0, TOP_PRODUCTS).map((product) => `${productText(product.productId, names)} ${money(product.revenue, now.currency)}`);
    fields.push(field(now.products.length > 1 ? 'Top products' : 'Top product', top.join('\n')));
  }
  return { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(now.currency)}*` }, fields: fields.slice(0, SlackLimits.sectionFields) };
}

function windowText(period: Period): string {
  const start = offsetLabel(period.startMs, period.timeZone);
  const end = offsetLabel(period.endMs - 1, period.timeZone);
  const hours = (period.endMs - period.startMs) / 3_600_000;
  const ordinaryHours = period.kind === 'day' ? 24 : 168;
  return (
    `${localDateTime(period.startMs, period.timeZone)} – ${localDateTime(period.endMs, period.timeZone)} ${period.timeZone} ` +
    `(${start === end ? start : `${start} → ${end}`}${hours === ordinaryHours ? '' : `, ${hours} h: the clocks changed`})`
  );
}

function footer(input: SummaryInput): ContextBlock {
  const { period } = input;
  const events = input.totals.events ?? 0;
  const text = `Window ${windowText(period)} · ${plural(events, 'event')} · computed ${localDateTime(input.computedAtMs, period.timeZone)} ${period.timeZone}`;
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncate(escapeMrkdwn(text), 3000) }] };
}

function lateBlocks(late: readonly LateArrivals[]): KnownBlock[] {
  const lines = late
    .filter((entry) => (entry.added.events ?? 0) > 0)
    .map((entry) => {
      const nets = currencyTotals(entry.added)
        .filter((totals) => totals.net !== 0)
        .map((totals) => `net ${signedMoney(totals.net, totals.currency)}`);
      const events = entry.added.events ?? 0;
      return (
        `${plural(events, 'late event')} for ${periodLabel(entry.period)} arrived after its summary was posted` +
        `${nets.length > 0 ? ` (${nets.join(', ')})` : ''}; they are counted there, not here.`
      );
    });
  if (lines.length === 0) return [];
  return [{ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(escapeMrkdwn(lines.join('\n')), 3000) }] }];
}

/** How many test-mode events the figures leave out; nothing when there were none (the message is then as before modes). */
function testModeBlocks(totals: Counters): KnownBlock[] {
  const lines: string[] = [];
  const uncounted = totals[UNCOUNTED] ?? 0;
  if (uncounted > 0) lines.push(`Incomplete: ${plural(uncounted, 'event')} could not be counted (the counters were unavailable); these figures leave them out`);
  const leftOut = totals[TEST_LEFT_OUT] ?? 0;
  if (leftOut > 0) lines.push(`${plural(leftOut, 'test-mode event')} left out (signed with a test-mode key: not in these figures)`);
  // One block whatever it says: the block budget below counts one.
  return lines.length === 0 ? [] : [{ type: 'context', elements: lines.map((text) => ({ type: 'mrkdwn' as const, text })) }];
}

const TITLE: Readonly<Record<Period['kind'], string>> = { day: 'Daily summary', week: 'Weekly summary' };
const VERSUS: Readonly<Record<Period['kind'], string>> = { day: 'vs previous day', week: 'vs previous week' };
/** Room for the subscription, reason, unknown-amount, test-mode, late and footer blocks within Slack's 50. */
const MAX_CURRENCY_SECTIONS = 40;

/** The summary message for one period. */
export function buildSummaryMessage(input: SummaryInput): SlackMessage {
  const { period, totals } = input;
  const title = `${TITLE[period.kind]} · ${periodLabel(period)}`;
  const late = lateBlocks(input.late ?? []);
  if ((totals.events ?? 0) === 0) {
    const line = `${title}: no events in this period.`;
    return {
      text: escapeMrkdwn(line),
      attachments: [{ color: '#1D9BD1', fallback: escapeMrkdwn(line), blocks: [...testModeBlocks(totals), ...late, footer(input)] }],
    };
  }

  const currencies = currencyTotals(totals);
  const previous = new Map(currencyTotals(input.previous).map((entry) => [entry.currency, entry]));
  const payments = currencies.reduce((sum, entry) => sum + entry.payments, 0);
  const nets = currencies.filter((entry) => entry.payments > 0 || entry.refunds > 0).map((entry) => money(entry.net, entry.currency));
  const line = `${title}: ${plural(payments, 'payment')}${nets.length > 0 ? ` · net ${nets.join(', ')}` : ''}`;

  const blocks: KnownBlock[] = currencies.slice(0, MAX_CURRENCY_SECTIONS).map((entry) => currencySection(entry, previous.get(entry.currency), VERSUS[period.kind], input.names));
  if (currencies.length > MAX_CURRENCY_SECTIONS) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `and ${currencies.length - MAX_CURRENCY_SECTIONS} more currencies` }] });
  }

  const subscriptions = ['started', 'renewed', 'cancelled', 'on_hold'].map((name) => ({ name, count: totals[`sub.${name}`] ?? 0 }));
  if (subscriptions.some((entry) => entry.count > 0)) {
    const before = (name: string) => input.previous[`sub.${name}`] ?? 0;
    const parts = subscriptions.map((entry) => {
      const change = entry.name === 'started' ? changeLabel(entry.count, before('started')) : undefined;
      return `${entry.name.replace('_', ' ')} ${entry.count}${change === undefined ? '' : ` (${change})`}`;
    });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Subscriptions*\n${parts.join(' · ')}` } });
  }

  const reasons = failureReasons(totals);
  if (reasons.length > 0) {
    const top = reasons.slice(0, 3).map((entry) => `${codeText(entry.reason)} ×${entry.count}`);
    const more = reasons.length > 3 ? ` · ${plural(reasons.slice(3).reduce((sum, entry) => sum + entry.count, 0), 'other')}` : '';
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(`*Top failure reasons*\n${top.join(' · ')}${more}`, SlackLimits.sectionText) } });
  }

  const unknown = totals['unknown.amount'] ?? 0;
  if (unknown > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${plural(unknown, 'event')} without a readable amount or currency (counted, not summed)` }] });
  }
  blocks.push(...testModeBlocks(totals), ...late, footer(input));

  return {
    text: truncate(escapeMrkdwn(line), 3000),
    attachments: [{ color: '#1D9BD1', fallback: truncate(escapeMrkdwn(line), 3000), blocks: blocks.slice(0, SlackLimits.blocks) }],
  };
}

/**
 * The live card of a thread (Slack app mode): the parent message shows the object's current state,
 * rebuilt from every event of the thread, whatever order Dodo delivered them in.
 *
 * The state is kept in parts (the payment, each refund, each dispute, the subscription, its latest
 * payment, the payout, dunning) and every part remembers the `timestamp` of the event that set it.
 * An event changes a part only when it is newer than what set that part (on an equal timestamp, only
 * when it is not an earlier step of the lifecycle: `dispute.opened` does not undo `dispute.won`), so
 * the card never moves back to an older state, and a late refund still counts even after a newer
 * dispute. No customer data is kept: the state is stored (DynamoDB, serve's store) for months.
 *
 * Pure: no I/O; the caller stores the state and posts what {@link renderCard} returns.
 */
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { canonicalEventType } from '../../shared/event-glob';
import { omit } from '../../shared/omit';
import { formatMinorUnits, parseMinorUnits, currencyCode } from '../../messages/money';
import { buildMessage, humanize, parseDate, plain, str, type Fact, type Tone } from '../../messages/templates/layout';
import { dashboardLinks, idFact, productLabel, textFact } from '../../messages/templates/common';
import { productName as foundProductName, type KnownNames } from '../../shared/names';
import { formatDisputeAmount } from '../../messages/templates/dispute';
import { threadKindOf, type ThreadKey, type ThreadKind } from './thread-key';

/** One part of the card and the event time (epoch ms) and lifecycle step that set it. */
interface Part {
  readonly at: number;
  readonly rank: number;
  readonly status?: string;
  readonly amount?: string;
  readonly currency?: string;
}

interface IdPart extends Part {
  readonly id: string;
}

/** What the card shows; JSON, stored beside the thread's `ts`. */
export interface CardState {
  readonly key: ThreadKey;
  readonly kind: ThreadKind | 'other';
  readonly payment?: IdPart;
  readonly refunds?: Readonly<Record<string, Part>>;
  readonly disputes?: Readonly<Record<string, Part>>;
  readonly subscription?: Part & { readonly nextBillingDate?: string; readonly productId?: string; readonly productName?: string };
  /** Subscription threads: the latest renewal payment. */
  readonly lastPayment?: IdPart;
  readonly payout?: Part;
  readonly dunning?: Part;
  readonly checkout?: Part;
  /** Time of the newest event that changed the card (epoch ms). */
  readonly updatedAt: number;
}

/** Lifecycle steps: on an equal timestamp a later step wins, an earlier one does not undo it. */
const RANKS: Readonly<Record<string, number>> = {
  'payment.processing': 1,
  'payment.succeeded': 2,
  'payment.failed': 2,
  'payment.cancelled': 2,
  'dispute.opened': 1,
  'dispute.challenged': 2,
  'dispute.accepted': 3,
  'dispute.expired': 3,
  'dispute.cancelled': 3,
  'dispute.won': 3,
  'dispute.lost': 3,
  'refund.succeeded': 2,
  'refund.failed': 2,
  'dunning.started': 1,
  'dunning.recovered': 2,
  'abandoned_checkout.detected': 1,
  'abandoned_checkout.recovered': 2,
  'payout.created': 1,
  'payout.in_progress': 2,
  'payout.on_hold': 2,
  'payout.success': 3,
  'payout.failed': 3,
};

/** Whether an event at `at` with `rank` may replace `current`. */
function newer(current: Part | undefined, at: number, rank: number): boolean {
  if (current === undefined) return true;
  return at > current.at || (at === current.at && rank >= current.rank);
}

function text(value: unknown): string | undefined {
  return str(value);
}

function moneyString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  return undefined;
}

function part(at: number, rank: number, status: unknown, amount: unknown, currency: unknown): Part {
  const p: { at: number; rank: number; status?: string; amount?: string; currency?: string } = { at, rank };
  const s = text(status);
  const a = moneyString(amount);
  const c = currencyCode(currency);
  if (s !== undefined) p.status = s;
  if (a !== undefined) p.amount = a;
  if (c !== undefined) p.currency = c;
  return p;
}

/** A card with nothing on it yet, for `key`. */
export function emptyCard(key: ThreadKey): CardState {
  return { key, kind: threadKindOf(key) ?? 'other', updatedAt: 0 };
}

/**
 * The card after `envelope`. Returns a new state; `state` is not changed. Events that change
 * no part (an older one, a license key, an event a user transformation put in this thread) return
 * an equal card, so the parent is not edited for them.
 */
export function applyEvent(state: CardState, envelope: DodoWebhookEnvelope, names?: KnownNames): CardState {
  const data = (typeof envelope.data === 'object' && envelope.data !== null ? envelope.data : {});
  const type = canonicalEventType(typeof envelope.type === 'string' ? envelope.type : '');
  const family = type.split('.')[0] ?? '';
  const verb = type.slice(family.length + 1);
  // An event without a usable timestamp never overrides one that has it.
  const at = parseDate(envelope.timestamp) ?? 0;
  const rank = RANKS[type] ?? 1;
  const next: { -readonly [K in keyof CardState]: CardState[K] } = { ...state };
  let changed = false;
  const set = <K extends keyof CardState>(field: K, value: CardState[K]) => {
    next[field] = value;
    changed = true;
  };

  switch (family) {
    case 'payment': {
      const paymentId = text(data.payment_id);
      const p = { ...part(at, rank, data.status ?? verb, data.total_amount, data.currency), id: paymentId ?? '' };
      if (state.kind === 'subscription') {
        if (newer(state.lastPayment, at, rank)) set('lastPayment', p);
      } else if (state.kind === 'payment' && newer(state.payment, at, rank)) {
        set('payment', p);
      }
      break;
    }
    case 'refund': {
      const refundId = text(data.refund_id);
      if (state.kind !== 'payment' || refundId === undefined) break;
      const current = state.refunds?.[refundId];
      if (newer(current, at, rank)) set('refunds', { ...state.refunds, [refundId]: part(at, rank, data.status ?? verb, data.amount, data.currency) });
      break;
    }
    case 'dispute': {
      const disputeId = text(data.dispute_id);
      if (state.kind !== 'payment' || disputeId === undefined) break;
      const current = state.disputes?.[disputeId];
      if (newer(current, at, rank)) set('disputes', { ...state.disputes, [disputeId]: part(at, rank, data.dispute_status ?? verb, data.amount, data.currency) });
      break;
    }
    case 'subscription': {
      if (state.kind !== 'subscription' || !newer(state.subscription, at, rank)) break;
      const nextBillingDate = text(data.next_billing_date);
      const productId = text(data.product_id);
      // The name a look-up found, kept with the card so later events need not find it again.
      const productName = productId === undefined ? undefined : (foundProductName(names, productId) ?? (productId === state.subscription?.productId ? state.subscription.productName : undefined));
      set('subscription', {
        ...part(at, rank, data.status ?? verb, data.recurring_pre_tax_amount, data.currency),
        ...(nextBillingDate === undefined ? {} : { nextBillingDate }),
        ...(productId === undefined ? {} : { productId }),
        ...(productName === undefined ? {} : { productName }),
      });
      break;
    }
    case 'dunning':
      if (state.kind === 'subscription' && newer(state.dunning, at, rank)) set('dunning', part(at, rank, verb, undefined, undefined));
      break;
    case 'payout':
      if (state.kind === 'payout' && newer(state.payout, at, rank)) set('payout', part(at, rank, data.status ?? verb, data.amount, data.currency));
      break;
    case 'abandoned_checkout':
      if (state.kind === 'payment' && newer(state.checkout, at, rank)) set('checkout', part(at, rank, verb, data.total_amount ?? data.amount, data.currency));
      break;
    default:
      break;
  }
  if (changed) next.updatedAt = Math.max(state.updatedAt, at);
  return next;
}

/** The card as built from `events` in any order: the fold the store keeps incrementally. */
export function cardOf(key: ThreadKey, events: readonly DodoWebhookEnvelope[]): CardState {
  return events.reduce((state, envelope) => applyEvent(state, envelope), emptyCard(key));
}

/** Whether two states are the same card, whatever order their parts were set in. */
export function sameCard(a: CardState, b: CardState): boolean {
  return canonical(a) === canonical(b);
}

/** JSON with object keys sorted: parts set in another order give the same text. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function money(amount: string | undefined, currency: string | undefined): string | undefined {
  if (amount === undefined) return undefined;
  return formatMinorUnits(amount, currency) ?? formatDisputeAmount(amount, currency);
}

/** Succeeded refunds added up, per currency (`$29.99`); undefined when there are none. */
function refundedSoFar(refunds: CardState['refunds']): string | undefined {
  const totals = new Map<string, number>();
  for (const refund of Object.values(refunds ?? {})) {
    if (refund.status !== 'succeeded') continue;
    const minor = parseMinorUnits(refund.amount);
    if (minor === undefined) continue;
    const currency = refund.currency ?? '';
    totals.set(currency, (totals.get(currency) ?? 0) + minor);
  }
  const shown = [...totals].map(([currency, minor]) => formatMinorUnits(minor, currency)).filter((s): s is string => s !== undefined);
  return shown.length > 0 ? shown.join(' + ') : undefined;
}

const OPEN_DISPUTE = new Set(['dispute_opened', 'dispute_challenged', 'opened', 'challenged']);
const LOST_DISPUTE = new Set(['dispute_lost', 'dispute_expired', 'dispute_accepted', 'lost', 'expired', 'accepted']);

function latestDispute(disputes: CardState['disputes']): (Part & { id: string }) | undefined {
  const all = Object.entries(disputes ?? {}).map(([id, p]) => ({ ...p, id }));
  return all.sort((a, b) => b.at - a.at || b.rank - a.rank)[0];
}

/** A status word for people: `dispute_won` → `won`, `past_due` → `past due`. */
function statusWord(status: string | undefined): string | undefined {
  return humanize(status?.replace(/^dispute_/, ''));
}

/**
 * The parent message of the thread: one line saying where the object stands, then its facts.
 * Uses the built-in layout (escaped, within Slack's limits); `options` as for the built-in
 * templates (dashboard links; mentions never apply to a card, which is edited, not announced).
 */
export function renderCard(state: CardState, options: BuiltinTemplateOptions = {}): SlackMessage {
  const objectId = state.key.slice(state.key.indexOf(':') + 1);
  const facts: Fact[] = [];
  const ids: Fact[] = [];
  let tone: Tone = 'info';
  let headline: string;
  const summary: string[] = [];
  let links: ReturnType<typeof dashboardLinks> = [];

  switch (state.kind) {
    case 'payment': {
      const payment = state.payment;
      const dispute = latestDispute(state.disputes);
      const refunded = refundedSoFar(state.refunds);
      const amount = money(payment?.amount, payment?.currency) ?? money(dispute?.amount, dispute?.currency);
      headline = payment?.status ? `Payment ${statusWord(payment.status)}` : state.checkout ? 'Checkout' : 'Payment';
      if (amount) summary.push(amount);
      if (refunded) summary.push(`refunded ${refunded}`);
      if (dispute) summary.push(`dispute ${statusWord(dispute.status) ?? 'open'}`);
      if (state.checkout && !payment) summary.push(`checkout ${statusWord(state.checkout.status) ?? ''}`.trim());
      tone = payment?.status === 'succeeded' ? 'good' : payment?.status === 'failed' || payment?.status === 'cancelled' ? 'danger' : 'info';
      if (refunded) tone = 'warning';
      if (dispute && dispute.status !== undefined) {
        if (OPEN_DISPUTE.has(dispute.status)) tone = 'danger';
        else if (LOST_DISPUTE.has(dispute.status)) tone = 'danger';
        else tone = 'good';
      }
      facts.push({ label: 'Amount', value: plain(amount ?? 'unknown') });
      facts.push(textFact('Payment', statusWord(payment?.status) ?? (payment ? undefined : 'not seen yet')));
      if (refunded) facts.push(textFact('Refunded so far', refunded));
      const refundCount = Object.keys(state.refunds ?? {}).length;
      if (refundCount > 0) facts.push(textFact('Refunds', Object.values(state.refunds ?? {}).map((r) => `${money(r.amount, r.currency) ?? '?'} ${statusWord(r.status) ?? ''}`.trim()).join(', ')));
      if (dispute) facts.push(textFact('Dispute', `${statusWord(dispute.status) ?? 'open'}${dispute.amount ? ` (${money(dispute.amount, dispute.currency) ?? dispute.amount})` : ''}`));
      if (state.checkout) facts.push(textFact('Checkout', statusWord(state.checkout.status)));
      ids.push(idFact('Payment', objectId));
      if (dispute) ids.push(idFact('Dispute', dispute.id));
      links = dashboardLinks(['payment', objectId]);
      break;
    }
    case 'subscription': {
      const sub = state.subscription;
      const amount = money(sub?.amount, sub?.currency);
      headline = `Subscription ${statusWord(sub?.status) ?? ''}`.trim();
      if (amount) summary.push(`${amount} per period`);
      if (sub?.nextBillingDate && (sub.status === 'active' || sub.status === undefined)) summary.push(`next billing ${sub.nextBillingDate.slice(0, 10)}`);
      tone = sub?.status === 'active' ? 'good' : sub?.status === 'on_hold' || sub?.status === 'failed' || sub?.status === 'past_due' ? 'danger' : sub?.status === 'cancelled' || sub?.status === 'expired' ? 'warning' : 'info';
      if (state.dunning?.status === 'started') tone = 'danger';
      facts.push(textFact('Status', statusWord(sub?.status) ?? 'not seen yet'));
      facts.push({ label: 'Amount', value: plain(amount ?? 'unknown') });
      facts.push(textFact('Next billing', sub?.nextBillingDate?.slice(0, 10)));
      if (state.lastPayment) facts.push(textFact('Latest payment', `${money(state.lastPayment.amount, state.lastPayment.currency) ?? ''} ${statusWord(state.lastPayment.status) ?? ''}`.trim()));
      if (state.dunning) facts.push(textFact('Dunning', statusWord(state.dunning.status)));
      ids.push(idFact('Subscription', objectId));
      if (sub?.productId) ids.push(sub.productName === undefined ? idFact('Product', sub.productId) : { label: 'Product', value: productLabel(sub.productId, { products: { [sub.productId]: sub.productName } }) });
      links = dashboardLinks(['subscription', objectId]);
      break;
    }
    case 'payout': {
      const payout = state.payout;
      const amount = money(payout?.amount, payout?.currency);
      headline = `Payout ${statusWord(payout?.status) ?? ''}`.trim();
      if (amount) summary.push(amount);
      tone = payout?.status === 'success' ? 'good' : payout?.status === 'failed' ? 'danger' : payout?.status === 'on_hold' ? 'warning' : 'info';
      facts.push({ label: 'Amount', value: plain(amount ?? 'unknown') });
      facts.push(textFact('Status', statusWord(payout?.status)));
      ids.push(idFact('Payout', objectId));
      links = dashboardLinks(['payout', objectId]);
      break;
    }
    default:
      headline = 'Thread';
      ids.push(idFact('Key', state.key));
  }
  const when = state.updatedAt > 0 ? new Date(state.updatedAt).toISOString() : '';
  return buildMessage(
    { tone, headline, summary: summary.join(' · '), facts, ids, links },
    { business_id: '', type: state.key, timestamp: when, data: {} },
    omit(options, 'mentions'),
  );
}

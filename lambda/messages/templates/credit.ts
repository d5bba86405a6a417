/**
 * credit.added | deducted | expired | rolled_over | rollover_forfeited | overage_charged |
 * overage_reset | manual_adjustment (a CreditLedgerEntry) and credit.balance_low (CreditBalanceLow).
 * Credit amounts are decimal strings of credits, not money.
 */
import type { CreditLedgerEntry } from 'dodopayments/resources/credit-entitlements/balances';
import type { CreditBalanceLowWebhookEvent } from 'dodopayments/resources/webhooks/webhooks';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { asLoose, dashboardLinks, idFact, sentence, textFact } from './common';
import { eventStyle, type EventStyle } from './generic';
import { buildMessage, type Fact, humanize, plain, str } from './layout';

const CREDIT_EVENTS: Readonly<Record<string, EventStyle>> = {
  'credit.added': { tone: 'good', headline: 'Credits added' },
  'credit.deducted': { tone: 'info', headline: 'Credits used' },
  'credit.expired': { tone: 'warning', headline: 'Credits expired' },
  'credit.rolled_over': { tone: 'info', headline: 'Credits rolled over' },
  'credit.rollover_forfeited': { tone: 'warning', headline: 'Rollover credits forfeited' },
  'credit.overage_charged': { tone: 'warning', headline: 'Credit overage charged' },
  'credit.overage_reset': { tone: 'info', headline: 'Credit overage reset' },
  'credit.manual_adjustment': { tone: 'info', headline: 'Credits adjusted manually' },
  'credit.balance_low': { tone: 'warning', headline: 'Credit balance low' },
};

/** "1000" → "1,000"; "12.5" → "12.5"; undefined for anything that is not a decimal number. */
export function formatCredits(value: unknown): string | undefined {
  const text = typeof value === 'number' && Number.isFinite(value) ? String(value) : typeof value === 'string' ? value.trim() : '';
  const match = /^(-?)(\d+)(\.\d+)?$/.exec(text);
  if (!match) return undefined;
  const [, sign, whole, fraction] = match;
  return `${sign}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction ?? ''}`;
}

function creditsFact(label: string, value: unknown): Fact {
  const credits = formatCredits(value);
  return { label, value: credits === undefined ? undefined : plain(credits) };
}

function renderBalanceLow(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  const low = asLoose<CreditBalanceLowWebhookEvent['data']>(envelope.data);
  const name = str(low.credit_entitlement_name);
  const available = formatCredits(low.available_balance);
  const percent = typeof low.threshold_percent === 'number' ? `${low.threshold_percent}%` : undefined;
  return buildMessage(
    {
      tone: CREDIT_EVENTS['credit.balance_low'].tone,
      headline: CREDIT_EVENTS['credit.balance_low'].headline,
      summary: sentence(name ? `${name}:` : undefined, available ? `${available} credits left` : 'balance below threshold',
        percent && `(threshold ${percent})`),
      facts: [
        creditsFact('Available', low.available_balance),
        textFact('Credit', name, 300),
        creditsFact('Threshold', low.threshold_amount),
        textFact('Threshold %', percent),
        creditsFact('Per subscription period', low.subscription_credits_amount),
      ],
      ids: [
        idFact('Customer', low.customer_id),
        idFact('Subscription', low.subscription_id),
        idFact('Credit entitlement', low.credit_entitlement_id),
      ],
      links: dashboardLinks(['customer', low.customer_id], ['subscription', low.subscription_id]),
    },
    envelope,
    options,
  );
}

export function renderCredit(envelope: DodoWebhookEnvelope, options: BuiltinTemplateOptions): SlackMessage {
  if (envelope.type === 'credit.balance_low') return renderBalanceLow(envelope, options);
  const entry = asLoose<CreditLedgerEntry>(envelope.data);
  const event = eventStyle(CREDIT_EVENTS, envelope.type);
  const amount = formatCredits(entry.amount);
  const before = formatCredits(entry.balance_before);
  const after = formatCredits(entry.balance_after);
  const overageBefore = formatCredits(entry.overage_before);
  const overageAfter = formatCredits(entry.overage_after);
  const sign = entry.is_credit === true ? '+' : entry.is_credit === false ? '−' : '';

  return buildMessage(
    {
      tone: event.tone,
      headline: event.headline,
      summary: sentence(amount ? `${sign}${amount} credits` : 'Amount unknown', before && after && `(balance ${before} → ${after})`),
      facts: [
        textFact('Credits', amount && `${sign}${amount}`),
        textFact('Balance', before && after ? `${before} → ${after}` : after),
        textFact('Overage', overageBefore && overageAfter && overageBefore !== overageAfter ? `${overageBefore} → ${overageAfter}` : undefined),
        textFact('Transaction', humanize(entry.transaction_type)),
        textFact('Reference', sentence(humanize(entry.reference_type), str(entry.reference_id)) || undefined, 300),
      ],
      details: { label: 'Description', text: str(entry.description) },
      ids: [
        idFact('Ledger entry', entry.id),
        idFact('Customer', entry.customer_id),
        idFact('Credit entitlement', entry.credit_entitlement_id),
        idFact('Grant', entry.grant_id),
      ],
      links: dashboardLinks(['customer', entry.customer_id]),
    },
    envelope,
    options,
  );
}

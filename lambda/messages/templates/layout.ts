/**
 * The one layout every built-in message shares, so all 48 event types look alike:
 *   - a top-level `text`, "[mention] Headline: summary" on one line. A message without top-level
 *     `blocks` shows this text as its body (above the attachment), and it is the phone
 *     notification; the mention lives here so that it notifies;
 *   - one coloured attachment that adds what the line does not say, without repeating it:
 *     key facts → long text (reason) → ids → "Open in Dodo" → time.
 *
 * Payload text can only reach Slack through the {@link Mrkdwn} helpers below, which escape it;
 * the branded type makes forgetting to escape a compile error.
 */
import type { ActionsBlock, Button, ContextBlock, KnownBlock, MessageAttachment, SectionBlock } from '@slack/types';
import type { BuiltinTemplateOptions, SlackMessage } from '../../shared/transformation';
import type { DodoWebhookEnvelope } from '../../shared/webhook';
import { compileEventGlobs } from '../../shared/event-glob';
import { escapeMrkdwn, slackDate, truncate } from '../mrkdwn';
import { SlackLimits } from '../slack-limits';

/** mrkdwn that is safe to post: built only by the helpers in this module. */
export type Mrkdwn = string & { readonly __brand: 'Mrkdwn' };

/** Longest single payload value we show (a field holds 2000 with its label). */
const MAX_VALUE = 1500;

/** Payload text, escaped and cut to `max`. */
export function plain(raw: string, max = MAX_VALUE): Mrkdwn {
  return truncate(escapeMrkdwn(raw), max) as Mrkdwn;
}

/** Text we wrote ourselves (labels, event names); still escaped, so a stray `<` can do no harm. */
export const ours = plain;

/** An id or code in backticks. Backticks inside are dropped so the payload cannot close the span. */
export function code(raw: string, max = 200): Mrkdwn {
  return `\`${truncate(escapeMrkdwn(raw.replace(/`/g, "'")), max)}\`` as Mrkdwn;
}

/** Bold text. Asterisks inside are dropped so the payload cannot end the bold span early. */
export function bold(raw: string, max = MAX_VALUE): Mrkdwn {
  return `*${truncate(escapeMrkdwn(raw.replace(/\*/g, '')), max)}*` as Mrkdwn;
}

/** Joins safe pieces. */
export function join(parts: readonly Mrkdwn[], separator = ' '): Mrkdwn {
  return parts.join(escapeMrkdwn(separator)) as Mrkdwn;
}

/** Milliseconds of an ISO-8601 date; undefined for missing, unparseable or epoch-zero dates. */
export function parseDate(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const ms = Date.parse(value);
  // A zero or negative epoch is a null that went through a date library, never a real event time.
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return ms;
}

/** A payload date in the reader's time zone, or undefined when it is missing (never 1970). */
export function date(value: unknown): Mrkdwn | undefined {
  const ms = parseDate(value);
  if (ms === undefined) return undefined;
  return slackDate(ms / 1000, new Date(ms).toISOString()) as Mrkdwn;
}

/** A non-empty trimmed string, or undefined. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return undefined;
}

/** `snake_case` / `Title` status words as readable text: `past_due` → `past due`. */
export function humanize(value: unknown): string | undefined {
  const text = str(value);
  return text === undefined ? undefined : text.replace(/_/g, ' ');
}

export type Tone = 'good' | 'warning' | 'danger' | 'info';

const TONE_COLOR: Readonly<Record<Tone, string>> = {
  good: 'good',
  warning: 'warning',
  danger: 'danger',
  info: '#1D9BD1',
};

/** A labelled fact; facts whose value is unknown are left out rather than printed as "null". */
export interface Fact {
  readonly label: string;
  readonly value: Mrkdwn | undefined;
}

/** A link to a page of the Dodo dashboard, relative to `dashboardBaseUrl`. */
export interface DashboardLink {
  readonly label: string;
  /** Path segments; each is percent-encoded, so payload ids cannot change the URL's shape. */
  readonly segments: readonly string[];
}

/** What a family template decides; {@link buildMessage} turns it into Slack's shape. */
export interface MessageDraft {
  readonly tone: Tone;
  /** What happened, in our words: "Payment succeeded". Starts the message's one-line `text`. */
  readonly headline: string;
  /** The rest of that line ("$29.99 from Ada Lovelace"), raw text (escaped and put on one line here). */
  readonly summary?: string;
  /** Key facts: amount, customer, product, status, reason… shown as fields, in order. */
  readonly facts: readonly Fact[];
  /** Longer payload text (a failure message, a dispute reason) shown as its own section. */
  readonly details?: { readonly label: string; readonly text: string | undefined };
  /** Ids, shown after the facts. */
  readonly ids: readonly Fact[];
  readonly links?: readonly DashboardLink[];
}

/** The mention configured for this event type, if any (trusted operator text, not escaped). */
export function mentionFor(eventType: string, mentions: BuiltinTemplateOptions['mentions']): string | undefined {
  if (!mentions) return undefined;
  const matched: string[] = [];
  for (const [glob, mention] of Object.entries(mentions)) {
    if (mention.trim() !== '' && compileEventGlobs([glob])(eventType)) matched.push(mention.trim());
  }
  return matched.length > 0 ? [...new Set(matched)].join(' ') : undefined;
}

/** `https://app.dodopayments.com` + `/payments/pay_1`, or undefined for a base that is not http(s). */
export function dashboardUrl(base: string | undefined, segments: readonly string[]): string | undefined {
  if (!base) return undefined;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  const prefix = url.pathname.replace(/\/+$/, '');
  // A `.` or `..` segment (even as %2E) is resolved away by URL, pointing the button elsewhere: no link.
  if (segments.some((segment) => /^\.{1,2}$/.test(segment))) return undefined;
  url.pathname = `${prefix}/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`;
  url.search = '';
  url.hash = '';
  const href = url.toString();
  return href.length <= SlackLimits.buttonUrl ? href : undefined;
}

function factText(fact: Fact & { value: Mrkdwn }): string {
  return truncate(`*${escapeMrkdwn(fact.label)}*\n${fact.value}`, SlackLimits.sectionFieldText);
}

function fieldSections(facts: readonly Fact[]): SectionBlock[] {
  const known = facts.filter((fact): fact is Fact & { value: Mrkdwn } => fact.value !== undefined && fact.value !== '');
  const sections: SectionBlock[] = [];
  for (let i = 0; i < known.length; i += SlackLimits.sectionFields) {
    sections.push({
      type: 'section',
      fields: known.slice(i, i + SlackLimits.sectionFields).map((fact) => ({ type: 'mrkdwn', text: factText(fact) })),
    });
  }
  return sections;
}

/** Line breaks and runs of whitespace (a `\r\n` in a customer name) as one space: the line stays one line. */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * Assembles a draft into a Slack message within every Slack limit. The headline and summary are
 * said once, in `text`; the attachment carries only what that line leaves out.
 */
export function buildMessage(
  draft: MessageDraft,
  envelope: DodoWebhookEnvelope,
  options: BuiltinTemplateOptions = {},
): SlackMessage {
  const mention = mentionFor(envelope.type, options.mentions);
  const summary = draft.summary !== undefined && draft.summary.trim() !== '' ? oneLine(draft.summary) : undefined;
  const headline = oneLine(draft.headline);
  /** Raw text: plain here, escaped for the mrkdwn `text`. */
  const line = summary ? `${headline}: ${summary}` : headline;

  const text = oneLine([mention, escapeMrkdwn(line)].filter((part): part is string => part !== undefined).join(' '));

  const blocks: KnownBlock[] = [...fieldSections(draft.facts)];

  const detailsText = draft.details?.text?.trim();
  if (draft.details && detailsText) {
    const label = `*${escapeMrkdwn(draft.details.label)}*\n`;
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: label + truncate(escapeMrkdwn(detailsText), SlackLimits.sectionText - label.length) },
    });
  }

  const ids = draft.ids.filter((fact): fact is Fact & { value: Mrkdwn } => fact.value !== undefined);
  if (ids.length > 0) {
    const idContext: ContextBlock = {
      type: 'context',
      elements: ids.slice(0, SlackLimits.contextElements).map((fact) => ({
        type: 'mrkdwn',
        text: truncate(`${escapeMrkdwn(fact.label)}: ${fact.value}`, 500),
      })),
    };
    blocks.push(idContext);
  }

  const buttons: Button[] = [];
  for (const link of draft.links ?? []) {
    const url = dashboardUrl(options.dashboardBaseUrl, link.segments);
    if (url) buttons.push({ type: 'button', text: { type: 'plain_text', text: truncate(link.label, SlackLimits.buttonText) }, url });
  }
  if (buttons.length > 0) {
    const actions: ActionsBlock = { type: 'actions', elements: buttons.slice(0, SlackLimits.actionsElements) };
    blocks.push(actions);
  }

  const when = date(envelope.timestamp);
  const eventLine = [
    when,
    code(envelope.type, 100),
  ].filter((part): part is Mrkdwn => part !== undefined);
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: join(eventLine, ' · ') }] });

  const attachment: MessageAttachment = {
    color: TONE_COLOR[draft.tone],
    // Slack documents `fallback` as plain text, shown where attachments are not drawn: no mrkdwn
    // and no mention. Payload text is still escaped here, as everywhere in the message, so no
    // client that does parse it can turn a customer's `<!channel>` into a ping.
    fallback: truncate(escapeMrkdwn(line), 3000),
    blocks: blocks.slice(0, SlackLimits.blocks),
  };
  return { text: truncate(text, 3000), attachments: [attachment] };
}

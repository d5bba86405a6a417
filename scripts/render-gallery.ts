/**
 * Renders one fixture per event family through the built-in templates, draws each message as an
 * HTML approximation of Slack (the top-level `text` as the message body, then the attachment:
 * colour bar, sections, fields, context, buttons)
 * and screenshots it with headless Chromium into docs/gallery/<family>.png, then writes
 * docs/messages.md with every image, its event type and its notification text, then a daily
 * summary (lambda/summaries/) of the test suite's mix of JPY, KWD, EUR and USD events, and last the
 * same payment, subscription, abandoned checkout and summary with names a Dodo API key looked up.
 *
 *   npx ts-node --transpile-only scripts/render-gallery.ts
 *
 * Chromium is taken from $CHROMIUM or `chromium` on the PATH (Debian: `apt-get install chromium`).
 * Without it, docs/messages.md gets the messages in text form instead, and says so.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KnownBlock } from '@slack/types';
import type { BuiltinTemplateOptions, SlackMessage } from '../lambda/shared/transformation';
import type { DodoWebhookEnvelope } from '../lambda/shared/webhook';
import type { KnownNames } from '../lambda/shared/names';
import { validateSlackMessage } from '../lambda/messages/slack-limits';
import { renderBuiltinMessage } from '../lambda/messages/templates';
import { cardOf, renderCard } from '../lambda/transformer/threads/card';
import { threadKeyOf } from '../lambda/transformer/threads/thread-key';
import { compileEventGlobs } from '../lambda/shared/event-glob';
import { Defaults } from '../lambda/shared/defaults';
import { addCounters, summaryFactsOf, type Counters } from '../lambda/summaries/facts';
import { buildSummaryMessage } from '../lambda/summaries/message';
import { parseCalendarDate, periodOf } from '../lambda/summaries/period';
import { DAY_MIX, PREVIOUS_DAY } from '../test/support/summary-events';
import { DEFAULT_ALERT_SETTINGS, evaluateAlerts } from '../lambda/alerts/rules';

const ROOT = path.resolve(__dirname, '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'dodo');
const GALLERY = path.join(ROOT, 'docs', 'gallery');
const MESSAGES_MD = path.join(ROOT, 'docs', 'messages.md');
const THREADS_MD = path.join(ROOT, 'docs', 'threads.md');

/**
 * One payment's story for the app-mode gallery (the fixtures with their timestamps spread out as
 * they would be): what the thread of pay_gr4RizvMOXFJ6xca3y2tU looks like after each event.
 */
const STORY: ReadonlyArray<{ fixture: string; timestamp: string; data?: Record<string, unknown>; time: string }> = [
  { fixture: 'payment.succeeded', timestamp: '2026-03-14T09:26:53.000Z', time: '9:27 AM' },
  { fixture: 'refund.succeeded', timestamp: '2026-03-15T11:02:14.000Z', data: { amount: 1000, is_partial: true }, time: 'Mar 15, 11:02 AM' },
  { fixture: 'dispute.opened', timestamp: '2026-03-20T08:00:05.000Z', time: 'Mar 20, 8:00 AM' },
  { fixture: 'dispute.won', timestamp: '2026-04-09T08:00:05.000Z', time: 'Apr 9, 8:00 AM' },
];

/** Options the gallery renders with: buttons and one mention, so both show up in the pictures. */
const OPTIONS: BuiltinTemplateOptions = {
  dashboardBaseUrl: 'https://app.dodopayments.com',
  mentions: { 'dispute.opened': '<!here>' },
};

/** One telling fixture per family (the one with the most to show), plus an unknown type. */
const SAMPLES: ReadonlyArray<{ family: string; fixture?: string; envelope?: DodoWebhookEnvelope }> = [
  { family: 'payment', fixture: 'payment.failed' },
  { family: 'refund', fixture: 'refund.succeeded' },
  { family: 'dispute', fixture: 'dispute.opened' },
  { family: 'subscription', fixture: 'subscription.cancelled' },
  { family: 'license_key', fixture: 'license_key.created' },
  { family: 'payout', fixture: 'payout.failed' },
  { family: 'credit', fixture: 'credit.balance_low' },
  { family: 'abandoned_checkout', fixture: 'abandoned_checkout.detected' },
  { family: 'dunning', fixture: 'dunning.started' },
  { family: 'entitlement_grant', fixture: 'entitlement_grant.failed' },
  {
    family: 'unknown',
    envelope: {
      business_id: 'bus_P6T3UCkJVGlGNP9WcM3ZD',
      type: 'invoice.finalized',
      timestamp: '2026-03-14T09:30:00.000Z',
      data: { invoice_id: 'inv_8Hq2Lw0Zk', status: 'open', total_amount: 4900, currency: 'EUR', created_at: '2026-03-14T09:29:58.000Z' },
    },
  },
];

const COLORS: Readonly<Record<string, string>> = { good: '#2EB67D', warning: '#ECB22E', danger: '#E01E5A' };

function htmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Slack's `<!date^…|fallback>` as Slack would show it to a reader in UTC. */
function renderDateToken(unix: string): string {
  const date = new Date(Number(unix) * 1000);
  const day = date.toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });
  const time = date.toLocaleTimeString('en-US', { hour: 'numeric', minute: '2-digit', timeZone: 'UTC' });
  return `${day} at ${time}`;
}

/**
 * mrkdwn → HTML. Payload text was escaped with `&amp; &lt; &gt;` by the templates, which is also
 * valid HTML; every literal `<` left is a Slack token the templates wrote themselves.
 */
function mrkdwnToHtml(text: string): string {
  let html = text.replace(/<([^<>]*)>/g, (_, token: string) => {
    const date = /^!date\^(\d+)\^[^|]*\|(.*)$/.exec(token);
    if (date) return `<span class="date">${renderDateToken(date[1])}</span>`;
    if (token === '!here' || token === '!channel' || token === '!everyone') return `<span class="mention">@${token.slice(1)}</span>`;
    if (token.startsWith('@')) return `<span class="mention">@${htmlEscape(token.slice(1))}</span>`;
    const link = /^(https?:[^|]*)\|?(.*)$/.exec(token);
    if (link) return `<a>${htmlEscape(link[2] || link[1])}</a>`;
    return htmlEscape(`<${token}>`);
  });
  html = html.replace(/`([^`]+)`/g, '<code>$1</code>');
  html = html.replace(/(^|[\s(])\*([^*\n]+)\*/g, '$1<b>$2</b>');
  return html.replace(/\n/g, '<br>');
}

function textHtml(text: { type: string; text: string } | undefined): string {
  if (!text) return '';
  return text.type === 'mrkdwn' ? mrkdwnToHtml(text.text) : htmlEscape(text.text);
}

function blockHtml(block: KnownBlock): string {
  switch (block.type) {
    case 'header':
      return `<div class="header">${htmlEscape(block.text.text)}</div>`;
    case 'section': {
      const text = block.text ? `<div class="section">${textHtml(block.text)}</div>` : '';
      const fields = block.fields
        ? `<div class="fields">${block.fields.map((field) => `<div>${textHtml(field)}</div>`).join('')}</div>`
        : '';
      return text + fields;
    }
    case 'context':
      return `<div class="context">${block.elements
        .map((element) => ('text' in element ? `<span>${textHtml(element as { type: string; text: string })}</span>` : ''))
        .join('')}</div>`;
    case 'actions':
      return `<div class="actions">${block.elements
        .map((element) => (element.type === 'button' ? `<span class="button">${htmlEscape(element.text.text)}</span>` : ''))
        .join('')}</div>`;
    case 'divider':
      return '<hr>';
    default:
      return `<div class="section">[${htmlEscape(block.type)} block]</div>`;
  }
}

/** One message's avatar, name line, body and attachments (no page around it). */
function messageInnerHtml(message: SlackMessage, time = '9:27 AM'): string {
  const body = Array.isArray(message.blocks) && message.blocks.length > 0
    ? (message.blocks).map(blockHtml).join('')
    : message.text ? `<div class="text">${mrkdwnToHtml(message.text)}</div>` : '';
  const attachments = (message.attachments ?? [])
    .map((attachment) => {
      const color = COLORS[attachment.color ?? ''] ?? attachment.color ?? '#DDDDDD';
      const blocks = (attachment.blocks ?? []) as KnownBlock[];
      return `<div class="attachment" style="border-left-color:${htmlEscape(color)}">${blocks.map(blockHtml).join('')}</div>`;
    })
    .join('');
  return `<div class="message"><div class="avatar">D</div><div style="flex:1">
  <div><span class="name">Dodo Payments<span class="app">APP</span><small>${htmlEscape(time)}</small></span></div>
  ${body}${attachments}</div></div>`;
}

const PAGE_STYLE = `
  body { margin: 0; background: #fff; font: 15px/1.47 "Liberation Sans", "DejaVu Sans", Arial, sans-serif; color: #1d1c1d; }
  .message { display: flex; padding: 16px 20px; width: 720px; }
  .avatar { width: 36px; height: 36px; border-radius: 6px; background: #3b2a8a; color: #fff; font-weight: 700;
            display: flex; align-items: center; justify-content: center; margin-right: 8px; flex: none; }
  .name { font-weight: 900; } .name small { font-weight: 400; color: #616061; font-size: 12px; margin-left: 4px; }
  .app { background: #e8e8e8; color: #616061; font-size: 10px; font-weight: 700; padding: 1px 3px; border-radius: 2px; margin-left: 4px; }
  .text { margin: 0 0 2px; }
  .attachment { border-left: 4px solid #ddd; border-radius: 4px; padding: 4px 0 4px 12px; margin-top: 4px; }
  .header { font-size: 18px; font-weight: 900; margin: 4px 0 8px; }
  .section { margin: 4px 0 8px; } .fields { display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin: 4px 0 10px; }
  .context { color: #616061; font-size: 12px; margin: 6px 0; } .context span + span::before { content: "  ·  "; }
  .actions { margin: 8px 0; } .button { display: inline-block; border: 1px solid #ccc; border-radius: 4px; padding: 3px 12px;
            font-size: 13px; font-weight: 700; margin-right: 8px; }
  code { font: 12px "DejaVu Sans Mono", monospace; color: #e01e5a; background: #f6f6f6; border: 1px solid #e8e8e8; border-radius: 3px; padding: 1px 3px; }
  .mention { background: #fff4d6; color: #8c6500; border-radius: 3px; padding: 0 2px; }
  .date { text-decoration: underline dotted; } a { color: #1264a3; }
  .thread { border-left: 2px solid #e8e8e8; margin-left: 38px; }
  .thread .message { width: 660px; padding: 10px 20px; }
  .replies { color: #1264a3; font-size: 13px; font-weight: 700; padding: 0 20px 8px 64px; }
  .edited { color: #616061; font-size: 12px; }
  .broadcast { color: #616061; font-size: 12px; padding-left: 64px; }
  `;

/**
 * The whole message as Slack draws it: without top-level `blocks`, the top-level `text` is the
 * message body (mrkdwn, mentions highlighted), shown above the attachments; with blocks, the blocks.
 */
function messageHtml(message: SlackMessage): string {
  return pageHtml(messageInnerHtml(message));
}

function pageHtml(inner: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${PAGE_STYLE}</style></head><body>${inner}</body></html>`;
}

/** A height that fits the message: Chromium's --screenshot captures the window, not the page. */
function estimateHeight(message: SlackMessage): number {
  let height = 90 + 22 * Math.ceil(message.text.length / 80);
  for (const block of (message.attachments?.[0]?.blocks ?? []) as KnownBlock[]) {
    if (block.type === 'header') height += 42;
    else if (block.type === 'section') {
      if (block.text) height += 16 + 22 * Math.max(1, Math.ceil(block.text.text.length / 80) + (block.text.text.match(/\n/g)?.length ?? 0));
      if (block.fields) height += 14 + block.fields.reduce((sum, field, i) => (i % 2 === 0 ? sum + 22 * (1 + (field.text.match(/\n/g)?.length ?? 0) + Math.floor(field.text.length / 60)) + 8 : sum), 0);
    } else if (block.type === 'context') height += 30;
    else if (block.type === 'actions') height += 46;
  }
  return height;
}

function chromiumBinary(): string | undefined {
  const candidates = [process.env.CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome'].filter(Boolean) as string[];
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

function screenshot(chromium: string, html: string, png: string, height: number): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dodo-gallery-'));
  try {
    const file = path.join(dir, 'message.html');
    fs.writeFileSync(file, html);
    execFileSync(chromium, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--hide-scrollbars', `--user-data-dir=${path.join(dir, 'profile')}`,
      `--window-size=760,${height}`, `--screenshot=${png}`, `file://${file}`,
    ], { stdio: 'ignore', timeout: 60_000 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const chromium = chromiumBinary();
  fs.mkdirSync(GALLERY, { recursive: true });
  const sections: string[] = [];
  for (const sample of SAMPLES) {
    const envelope = sample.envelope
      ?? (JSON.parse(fs.readFileSync(path.join(FIXTURES, `${sample.fixture}.json`), 'utf8')) as DodoWebhookEnvelope);
    const message = renderBuiltinMessage(envelope, OPTIONS);
    const problems = validateSlackMessage(message);
    if (problems.length > 0) throw new Error(`${envelope.type} renders an invalid message: ${problems.join('; ')}`);

    let picture: string;
    if (chromium) {
      const png = path.join(GALLERY, `${sample.family}.png`);
      screenshot(chromium, messageHtml(message), png, estimateHeight(message));
      picture = `![${envelope.type} as shown in Slack](gallery/${sample.family}.png)`;
    } else {
      picture = '```\n' + JSON.stringify(message.attachments?.[0]?.blocks, null, 2) + '\n```';
    }
    const source = sample.fixture ? `fixture \`test/fixtures/dodo/${sample.fixture}.json\`` : 'a made-up type no template knows';
    sections.push(`## ${sample.family}: \`${envelope.type}\`\n\nFrom ${source}.\n\nMessage text (the first line in Slack and the notification): \`${message.text.replace(/`/g, "'")}\`\n\n${picture}\n`);
    process.stdout.write(`${sample.family}: ${envelope.type}\n`);
  }

  // A daily summary of the test mix (test/support/summary-events.ts), as posted at 09:00 the next day.
  const sum = (events: typeof DAY_MIX): Counters => events.reduce<Counters>((total, event) => addCounters(total, summaryFactsOf(event.envelope)), {});
  const summary = buildSummaryMessage({
    period: periodOf('day', parseCalendarDate('2026-12-01'), 'UTC'),
    totals: sum(DAY_MIX),
    previous: sum(PREVIOUS_DAY),
    computedAtMs: Date.parse('2026-12-02T09:00:00Z'),
  });
  const summaryProblems = validateSlackMessage(summary);
  if (summaryProblems.length > 0) throw new Error(`the summary renders an invalid message: ${summaryProblems.join('; ')}`);
  let summaryPicture: string;
  if (chromium) {
    screenshot(chromium, messageHtml(summary), path.join(GALLERY, 'summary.png'), estimateHeight(summary));
    summaryPicture = '![a daily summary as shown in Slack](gallery/summary.png)';
  } else {
    summaryPicture = '```\n' + JSON.stringify(summary.attachments?.[0]?.blocks, null, 2) + '\n```';
  }
  sections.push(
    `## Daily summary (\`summaries\` prop, \`serve --summary\`, \`dodo-slack summary\`)\n\n` +
      'From the test mix in `test/support/summary-events.ts`: payments in JPY, KWD, EUR and USD, a refund, a failed payment, ' +
      'a dispute and subscriptions on 2026-12-01 (UTC), against one USD payment the day before.\n\n' +
      `Message text: \`${summary.text.replace(/`/g, "'")}\`\n\n${summaryPicture}\n`,
  );
  process.stdout.write('summary: daily\n');

  sections.push(...renderNamed(chromium, sum));
  // One alert per rule and a resolved message (lambda/alerts/rules.ts), from made-up counters.
  const alertNow = Date.parse('2026-12-07T12:00:00Z');
  const alertInputs = {
    nowMs: alertNow,
    lastHour: { 'pay.n|USD': 26, 'failreason|card_declined': 9, 'failreason|insufficient_funds': 4, 'failreason|do_not_honor': 1 },
    hourBaseline: { 'pay.n|USD': 96, 'failreason|card_declined': 4 },
    lastDay: { 'refund.n|USD': 9, 'refund.amount|USD': 45_000 },
    dayBaseline: { 'refund.n|USD': 28, 'refund.amount|USD': 140_000 },
    dayBaselineDays: 28,
    month: { 'pay.n|USD': 240, 'dispute.opened.n|USD': 2 },
    monthName: '2026-12',
    lastAcceptedMs: alertNow - 9 * 3_600_000,
    longestGapMs: 5 * 3_600_000,
  };
  const alertMessages: { name: string; message: SlackMessage }[] = evaluateAlerts(DEFAULT_ALERT_SETTINGS, alertInputs, []).flatMap((decision) => (decision.action === 'open' ? [{ name: decision.episode.rule, message: decision.message }] : []));
  const failureEpisode = { rule: 'failures' as const, id: 'failures_1', openedAtMs: alertNow };
  const [resolved] = evaluateAlerts({ failures: {} }, { ...alertInputs, lastHour: { 'pay.n|USD': 40 } }, [failureEpisode]);
  if (resolved.action === 'resolve') alertMessages.push({ name: 'resolved', message: resolved.message });
  for (const { name, message } of alertMessages) {
    let picture: string;
    if (chromium) {
      screenshot(chromium, messageHtml(message), path.join(GALLERY, `alert-${name}.png`), estimateHeight(message));
      picture = `![the ${name} alert as shown in Slack](gallery/alert-${name}.png)`;
    } else {
      picture = '```\n' + message.text + '\n```';
    }
    sections.push(`## Alert: ${name} (\`alerts\` prop, \`serve --alerts\`)\n\nMessage text: \`${message.text.replace(/`/g, "'")}\`\n\n${picture}\n`);
    process.stdout.write(`alert: ${name}\n`);
  }

  const intro = [
    '# What the built-in messages look like',
    '',
    'One message per event family, rendered from the project\'s fixtures by the built-in templates',
    '(`Transformation.builtin()`), with `dashboardBaseUrl` set and a `<!here>` mention on',
    '`dispute.opened`. Every family has one template covering all its event types; the colour bar',
    'says good (green), warning (yellow), danger (red) or info (blue).',
    '',
    'Each message says what happened once, in its top-level `text`: the mention (if one is configured',
    'for the event type), the headline and a one-line summary. Slack shows that text as the message',
    'body and uses it for the notification. The coloured attachment under it adds the key facts,',
    'longer text such as a failure reason, the ids, "Open in Dodo" buttons and the event time.',
    '',
    chromium
      ? 'The images are an HTML approximation of Slack\'s rendering (times shown in UTC; Slack shows each reader\'s own zone), screenshotted with headless Chromium.'
      : 'Chromium was not available when this page was generated, so the messages are shown as Block Kit JSON.',
    '',
    'Regenerate with `npx ts-node --transpile-only scripts/render-gallery.ts`.',
    '',
  ].join('\n');
  fs.writeFileSync(MESSAGES_MD, `${intro}\n${sections.join('\n')}`);
  renderThreads(chromium);
}

/**
 * What a Dodo API key adds: the names the look-ups found (as the stand-in in the tests answers),
 * passed to the same templates. The product's ID stays after its name.
 */
const NAMES: KnownNames = {
  products: { pdt_R8AWMPiV8RyJElcCKvAID: 'Pro plan (monthly)', pdt_tea: 'Sencha, 100 g', pdt_pro: 'Pro plan (yearly)', pdt_a: 'Starter', pdt_b: 'Extra seat' },
  payments: {
    pay_9KdWq2mXz7LpR4tYb1NcV: {
      totalAmount: 4900,
      currency: 'EUR',
      customer: { customer_id: 'cus_2bQ7xN1mKp9sVt4LwZ8Ya', name: 'Grace Hopper', email: 'grace@example.com' },
      productCart: [{ product_id: 'pdt_R8AWMPiV8RyJElcCKvAID', quantity: 1 }],
    },
  },
};

function renderNamed(chromium: string | undefined, sum: (events: typeof DAY_MIX) => Counters): string[] {
  const sections: string[] = [
    '# With a Dodo API key: names, not IDs\n\nThe same messages when a Dodo API key is set ([README](../README.md#names-not-ids)): ' +
      'each product by its name with its ID after it, and an abandoned checkout with what its payment was.\n',
  ];
  const picture = (message: SlackMessage, file: string, alt: string) => {
    const problems = validateSlackMessage(message);
    if (problems.length > 0) throw new Error(`${file} renders an invalid message: ${problems.join('; ')}`);
    if (!chromium) return '```\n' + JSON.stringify(message.attachments?.[0]?.blocks, null, 2) + '\n```';
    screenshot(chromium, messageHtml(message), path.join(GALLERY, `${file}.png`), estimateHeight(message));
    return `![${alt}](gallery/${file}.png)`;
  };
  for (const fixture of ['payment.succeeded', 'subscription.cancelled', 'abandoned_checkout.detected']) {
    const envelope = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${fixture}.json`), 'utf8')) as DodoWebhookEnvelope;
    const message = renderBuiltinMessage(envelope, OPTIONS, NAMES);
    const file = `named-${fixture.split('.')[0]}`;
    sections.push(`## \`${fixture}\` with names\n\nMessage text: \`${message.text.replace(/`/g, "'")}\`\n\n${picture(message, file, `${fixture} with names`)}\n`);
    process.stdout.write(`named: ${fixture}\n`);
  }
  const summary = buildSummaryMessage({
    period: periodOf('day', parseCalendarDate('2026-12-01'), 'UTC'),
    totals: sum(DAY_MIX),
    previous: sum(PREVIOUS_DAY),
    computedAtMs: Date.parse('2026-12-02T09:00:00Z'),
    names: NAMES,
  });
  sections.push(`## Daily summary with names\n\nThe top products by revenue, named.\n\n${picture(summary, 'named-summary', 'a daily summary with product names')}\n`);
  process.stdout.write('named: summary\n');
  return sections;
}

/**
 * Slack app mode: the card (the thread's parent) as first posted and as updated, and the whole
 * thread, built with the same functions the delivery uses (threads/card.ts for the parent, the
 * built-in templates for the replies), written to docs/threads.md.
 */
function renderThreads(chromium: string | undefined): void {
  const events = STORY.map((step) => {
    const envelope = JSON.parse(fs.readFileSync(path.join(FIXTURES, `${step.fixture}.json`), 'utf8')) as DodoWebhookEnvelope;
    return { ...step, envelope: { ...envelope, timestamp: step.timestamp, data: { ...envelope.data, ...step.data } } };
  });
  const key = threadKeyOf(events[0].envelope)!;
  const broadcast = compileEventGlobs(Defaults.replyBroadcast);
  const first = renderCard(cardOf(key, [events[0].envelope]), OPTIONS);
  const final = renderCard(cardOf(key, events.map((event) => event.envelope)), OPTIONS);
  const replies = events.map((event) => ({ event, message: renderBuiltinMessage(event.envelope, OPTIONS) }));
  for (const message of [first, final, ...replies.map((reply) => reply.message)]) {
    const problems = validateSlackMessage(message);
    if (problems.length > 0) throw new Error(`the thread gallery renders an invalid message: ${problems.join('; ')}`);
  }
  const threadHtml = pageHtml(
    `${messageInnerHtml(final).replace('</small>', ' <span class="edited">(edited)</span></small>')}` +
      `<div class="replies">${replies.length} replies</div><div class="thread">` +
      replies
        .map(({ event, message }) => messageInnerHtml(message, event.time) + (broadcast(event.envelope.type) ? '<div class="broadcast">Also sent to the channel</div>' : ''))
        .join('') +
      '</div>',
  );
  const threadHeight = estimateHeight(final) + 40 + replies.reduce((sum, { message }) => sum + estimateHeight(message) - 10, 0);
  let pictures: { first: string; thread: string };
  if (chromium) {
    screenshot(chromium, messageHtml(first), path.join(GALLERY, 'thread-card-first.png'), estimateHeight(first));
    screenshot(chromium, threadHtml, path.join(GALLERY, 'thread.png'), threadHeight);
    pictures = { first: '![The card as first posted](gallery/thread-card-first.png)', thread: '![The thread after the dispute was won](gallery/thread.png)' };
  } else {
    pictures = { first: '```\n' + JSON.stringify(first, null, 2) + '\n```', thread: '```\n' + JSON.stringify(final, null, 2) + '\n```' };
  }
  const page = [
    '# Threads and live cards (Slack app mode)',
    '',
    `With a bot token instead of an incoming webhook, every event about one payment goes into one thread. Here, the`,
    `four events of \`${key}\` (${events.map((event) => `\`${event.fixture}\``).join(' → ')}), from the project's fixtures`,
    'with their timestamps spread over a month. The parent is a card showing where the payment stands; it is',
    'posted with the first event and edited (`chat.update`) as the others arrive, never back to an older state.',
    'Each event also posts its own built-in message as a reply; disputes, failures and cancellations are also',
    'sent to the channel (`reply_broadcast`, configurable). See the README, "Threads and live cards".',
    '',
    chromium
      ? 'The images are an HTML approximation of Slack\'s rendering, screenshotted with headless Chromium; they are built with the same functions the transformer posts with.'
      : 'Chromium was not available when this page was generated, so the cards are shown as JSON.',
    '',
    'Regenerate with `npx ts-node --transpile-only scripts/render-gallery.ts`.',
    '',
    '## The card as first posted',
    '',
    `After \`payment.succeeded\`. Message text: \`${first.text.replace(/`/g, "'")}\``,
    '',
    pictures.first,
    '',
    '## The thread, the card updated to the outcome',
    '',
    `After \`dispute.won\`. Card text: \`${final.text.replace(/`/g, "'")}\``,
    '',
    pictures.thread,
    '',
  ].join('\n');
  fs.writeFileSync(THREADS_MD, page);
  process.stdout.write(`thread: ${key}\n`);
}

main();

import type { SectionBlock } from '@slack/types';
import { validateSlackMessage } from '../../lambda/messages/slack-limits';
import { addCounters, summaryFactsOf, TEST_LEFT_OUT, type Counters } from '../../lambda/summaries/facts';
import { buildSummaryMessage, changeLabel, currencyTotals } from '../../lambda/summaries/message';
import { parseCalendarDate, periodOf } from '../../lambda/summaries/period';
import { DAY_MIX, dodoEvent, PREVIOUS_DAY } from '../support/summary-events';

const sum = (events: readonly { envelope: Parameters<typeof summaryFactsOf>[0] }[]): Counters =>
  events.reduce<Counters>((total, event) => addCounters(total, summaryFactsOf(event.envelope)), {});
const day = periodOf('day', parseCalendarDate('2026-12-01'), 'UTC');
const computedAtMs = Date.parse('2026-12-02T09:00:00Z');

function allText(message: ReturnType<typeof buildSummaryMessage>): string {
  return JSON.stringify(message);
}
function section(message: ReturnType<typeof buildSummaryMessage>, currency: string): string {
  const block = (message.attachments![0].blocks as SectionBlock[]).find((b) => b.type === 'section' && b.text?.text === `*${currency}*`);
  if (!block) throw new Error(`no ${currency} section`);
  return block.fields!.map((field) => field.text).join('\n');
}

test('per currency, in its minor unit, as the templates format money: JPY, KWD, EUR, USD', () => {
  const message = buildSummaryMessage({ period: day, totals: sum(DAY_MIX), previous: sum(PREVIOUS_DAY), computedAtMs });
  expect(message.text).toBe('Daily summary · Tue 1 Dec 2026: 6 payments · net €1,234.56, ¥1,500, KWD 12.345, $29.99');
  expect(section(message, 'JPY')).toContain('¥1,500 from 2 payments');
  expect(section(message, 'JPY')).toContain('`pdt_tea` ¥1,500');
  expect(section(message, 'KWD')).toContain('KWD 12.345 from 1 payment');
  const eur = section(message, 'EUR');
  expect(eur).toContain('*Gross*\n€1,244.56 from 2 payments');
  expect(eur).toContain('*Refunds*\n€10.00 (1 refund)');
  expect(eur).toContain('*Net*\n€1,234.56');
  expect(eur).toContain('`pdt_pro` €1,234.56');
  const usd = section(message, 'USD');
  expect(usd).toContain('$29.99 from 1 payment ▲ 50% vs previous day'); // 2999 vs 1999
  expect(usd).toContain('*Failed payments*\n1, $49.00');
  expect(usd).toContain('*Disputes*\nopened 1 ($29.99) · won 0 · lost 0');
  expect(usd).toContain('*MRR*\ngained $10.00 · lost $19.00 · net -$9.00 /month');
  const text = allText(message);
  expect(text).toContain('started 1 (▲ new) · renewed 1 · cancelled 1 · on hold 0');
  expect(text).toContain('`INSUFFICIENT_FUNDS` ×1');
  expect(text).toContain('Window 2026-12-01 00:00 – 2026-12-02 00:00 UTC (UTC+00:00) · 12 events · computed 2026-12-02 09:00 UTC');
  expect(validateSlackMessage(message)).toEqual([]);
  // Never an amount divided by 100 blindly, never $ for another currency.
  expect(text).not.toMatch(/¥15\.00|KWD 123\.45|\$1,234/);
});

test('▲/▼ and % against the previous period', () => {
  expect(changeLabel(150, 100)).toBe('▲ 50%');
  expect(changeLabel(95, 100)).toBe('▼ 5%');
  expect(changeLabel(1005, 1000)).toBe('▲ 0.5%');
  expect(changeLabel(100, 100)).toBe('= 0%');
  expect(changeLabel(100, 0)).toBe('▲ new');
  expect(changeLabel(0, 100)).toBe('▼ 100%');
  expect(changeLabel(-50, -100)).toBe('▲ 50%'); // a net loss that halved
  expect(changeLabel(0, 0)).toBeUndefined();
  const message = buildSummaryMessage({
    period: day,
    totals: sum([{ envelope: dodoEvent('payment.succeeded', { timestamp: '2026-12-01T10:00:00Z', amount: 1000 }) }]),
    previous: sum([{ envelope: dodoEvent('payment.succeeded', { timestamp: '2026-11-30T10:00:00Z', amount: 4000 }) }]),
    computedAtMs,
  });
  expect(section(message, 'USD')).toContain('$10.00 from 1 payment ▼ 75% vs previous day');
});

test('a period with no events says so in one line, with the footer', () => {
  const message = buildSummaryMessage({ period: periodOf('week', parseCalendarDate('2026-11-30'), 'Europe/Berlin'), totals: {}, previous: {}, computedAtMs });
  expect(message.text).toBe('Weekly summary · week of Mon 30 Nov 2026: no events in this period.');
  expect(message.text).not.toContain('\n');
  expect(message.attachments![0].blocks).toHaveLength(1);
  expect(allText(message)).toContain('Window 2026-11-30 00:00 – 2026-12-07 00:00 Europe/Berlin (UTC+01:00)');
});

test('the footer says when a DST change made the day shorter', () => {
  const message = buildSummaryMessage({ period: periodOf('day', parseCalendarDate('2026-03-29'), 'Europe/Berlin'), totals: { events: 1 }, previous: {}, computedAtMs });
  expect(allText(message)).toContain('2026-03-29 00:00 – 2026-03-30 00:00 Europe/Berlin (UTC+01:00 → UTC+02:00, 23 h: the clocks changed)');
});

test('late arrivals of an earlier, posted period are noted with what they add', () => {
  const late = sum([{ envelope: dodoEvent('payment.succeeded', { timestamp: '2026-11-30T10:00:00Z', currency: 'EUR', amount: 2500 }) }]);
  const message = buildSummaryMessage({ period: day, totals: { events: 1 }, previous: {}, late: [{ period: periodOf('day', parseCalendarDate('2026-11-30'), 'UTC'), added: late }], computedAtMs });
  expect(allText(message)).toContain('1 late event for Mon 30 Nov 2026 arrived after its summary was posted (net +€25.00); they are counted there, not here.');
});

test('payload text is escaped: a product id cannot ping the channel', () => {
  const totals = summaryFactsOf(dodoEvent('payment.succeeded', { timestamp: '2026-12-01T10:00:00Z', data: { product_cart: [{ product_id: '<!channel> `x`' }] } }));
  const text = allText(buildSummaryMessage({ period: day, totals, previous: {}, computedAtMs }));
  expect(text).not.toContain('<!channel>');
  expect(text).toContain("&lt;!channel&gt; 'x'");
});

test('many currencies stay within Slack limits', () => {
  let totals: Counters = {};
  for (let i = 0; i < 60; i += 1) {
    const code = `X${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`;
    totals = addCounters(totals, { events: 1, [`pay.n|${code}`]: 1, [`pay.gross|${code}`]: 100 });
  }
  const message = buildSummaryMessage({ period: day, totals, previous: {}, computedAtMs });
  expect(validateSlackMessage(message)).toEqual([]);
  expect(allText(message)).toContain('and 20 more currencies');
  expect(currencyTotals(totals)).toHaveLength(60);
});

test('test-mode events left out are said in one line when there are any; without them the message is exactly as before', () => {
  const live = buildSummaryMessage({ period: day, totals: sum(DAY_MIX), previous: sum(PREVIOUS_DAY), computedAtMs });
  const withTests = buildSummaryMessage({ period: day, totals: { ...sum(DAY_MIX), [TEST_LEFT_OUT]: 3 }, previous: { ...sum(PREVIOUS_DAY), [TEST_LEFT_OUT]: 7 }, computedAtMs });
  expect(withTests.text).toBe(live.text);
  const note = { type: 'context', elements: [{ type: 'mrkdwn', text: '3 test-mode events left out (signed with a test-mode key: not in these figures)' }] };
  // Just before the footer; everything else unchanged (the previous period's test events change no ▲/▼).
  expect(withTests.attachments![0].blocks).toEqual([...live.attachments![0].blocks!.slice(0, -1), note, live.attachments![0].blocks!.at(-1)]);
  expect(validateSlackMessage(withTests)).toEqual([]);
  expect(allText(buildSummaryMessage({ period: day, totals: { ...sum(DAY_MIX), [TEST_LEFT_OUT]: 1 }, previous: {}, computedAtMs }))).toContain('1 test-mode event left out');
  expect(buildSummaryMessage({ period: day, totals: { ...sum(DAY_MIX), [TEST_LEFT_OUT]: 0 }, previous: {}, computedAtMs })).toEqual(buildSummaryMessage({ period: day, totals: sum(DAY_MIX), previous: {}, computedAtMs }));

  const onlyTests = buildSummaryMessage({ period: day, totals: { [TEST_LEFT_OUT]: 2 }, previous: {}, computedAtMs });
  expect(onlyTests.text).toBe('Daily summary · Tue 1 Dec 2026: no events in this period.');
  expect(allText(onlyTests)).toContain('2 test-mode events left out');
});

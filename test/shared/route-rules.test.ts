import { compileRouteSelection, routeRuleProblems, slackMention, withMentions } from '../../lambda/shared/route-rules';
import type { QueuedWebhook } from '../../lambda/shared/webhook';

const event = (type: string, data: Record<string, unknown>, mode?: 'live' | 'test'): QueuedWebhook => ({
  webhookId: 'msg_1',
  webhookTimestamp: '1700000000',
  eventType: type,
  body: JSON.stringify({ business_id: 'bus_1', type, timestamp: '2026-12-01T10:00:00Z', data }),
  ...(mode ? { mode } : {}),
});

describe('a route takes an event when globs, modes and filter agree', () => {
  const route = compileRouteSelection({ events: ['payment.*'], modes: ['live'], filter: { 'data.currency': 'EUR' }, mentions: [{ mention: 'U0ADA' }, { mention: '@here', filter: { 'data.total_amount': { $gte: 100 } } }, { mention: 'U0ADA' }] });

  test.each([
    ['a live EUR payment', event('payment.succeeded', { currency: 'EUR', total_amount: 1 }), undefined],
    ['a record from before modes (no mode: live)', event('payment.failed', { currency: 'EUR' }), undefined],
    ['another family', event('refund.succeeded', { currency: 'EUR' }), 'its events (payment.*) do not include refund.succeeded'],
    ['test mode', event('payment.succeeded', { currency: 'EUR' }, 'test'), 'it takes live mode only, and this is a test-mode event'],
    ['another currency', event('payment.succeeded', { currency: 'USD' }), 'its filter does not hold: data.currency is "USD", not $eq "EUR"'],
  ])('%s', (_name, webhook, reason) => {
    expect(route.whyNot(webhook)).toBe(reason);
    expect(route.takes(webhook)).toBe(reason === undefined);
  });

  test('a body that is not JSON is taken, so its transformation dead-letters it with the reason', () => {
    const broken = { ...event('payment.succeeded', {}), body: '{not json' };
    expect(route.takes(broken)).toBe(true);
    expect(route.mentionsFor(broken)).toEqual([]);
  });

  test('mentions: each rule whose filter holds, once, in configuration order', () => {
    expect(route.mentionsFor(event('payment.succeeded', { currency: 'EUR', total_amount: 100 }))).toEqual(['<@U0ADA>', '<!here>']);
    expect(route.mentionsFor(event('payment.succeeded', { currency: 'EUR', total_amount: 99 }))).toEqual(['<@U0ADA>']);
    // A test payment pages nobody.
    const anyMode = compileRouteSelection({ events: ['*'], mentions: [{ mention: '@here' }] });
    expect(anyMode.mentionsFor(event('payment.succeeded', {}, 'test'))).toEqual([]);
    expect(anyMode.mentionsFor(event('payment.succeeded', {}, 'live'))).toEqual(['<!here>']);
  });
});

test('mentions in Slack syntax', () => {
  expect(['@here', '@channel', 'U012AB', 'W012AB', 'S012AB'].map(slackMention)).toEqual(['<!here>', '<!channel>', '<@U012AB>', '<@W012AB>', '<!subteam^S012AB>']);
});

test('withMentions puts them in text, and in a first section when the message is top-level blocks (where text is not shown)', () => {
  expect(withMentions({ text: 'Paid' }, [])).toEqual({ text: 'Paid' });
  expect(withMentions({ text: 'Paid', attachments: [{ color: '#000' }] }, ['<!here>'])).toEqual({ text: '<!here> Paid', attachments: [{ color: '#000' }] });
  expect(withMentions({ text: 'Paid', blocks: [{ type: 'divider' }] }, ['<!here>', '<@U1>'])).toEqual({
    text: '<!here> <@U1> Paid',
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '<!here> <@U1>' } }, { type: 'divider' }],
  });
  const full = Array.from({ length: 50 }, () => ({ type: 'divider' as const }));
  expect(withMentions({ text: 'Paid', blocks: full }, ['<!here>']).blocks).toHaveLength(50);
});

test('problems of modes and mentions carry their JSON paths', () => {
  expect(routeRuleProblems({ modes: ['live', 'live'], mentions: [{ mention: '#sales', when: {} }] }, 'routes[2]')).toEqual([
    { path: 'routes[2].modes', message: 'lists a mode twice' },
    { path: 'routes[2].mentions[0].when', message: 'is not a field of a mention; a mention has "mention" and "filter"' },
    { path: 'routes[2].mentions[0].mention', message: expect.stringContaining('got "#sales"') as unknown },
  ]);
});

/**
 * One routing configuration and one set of events, shared by the serve and the Lambda-path tests
 * of routing rules: three routes (big live payments with a mention, euro events, risk) and events
 * chosen so each route takes some and leaves others, for its globs, its modes and its filter.
 * Each event's envelope timestamp is MARKER + index, so a Slack message names the event it is about.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { WebhookMode } from '../../lambda/shared/webhook';

export const ROUTING_MARKER = 1_900_000_000;
const FIXTURES = path.join(__dirname, '..', 'fixtures', 'dodo');

/** The configuration file's text: each route's URL from its own variable (serve) or secret (AWS). */
export const ROUTING_CONFIG = {
  routes: [
    {
      id: 'Sales',
      events: ['payment.succeeded'],
      filter: { 'data.total_amount': { $gte: 50000 } },
      modes: ['live'],
      mentions: [{ mention: 'S0SALES01', filter: { 'data.total_amount': { $gte: 100000 } } }],
      slackWebhookUrlEnv: 'SLACK_SALES_URL',
      slackWebhookSecret: 'dodo/slack-sales',
    },
    {
      id: 'Europe',
      events: ['*'],
      filter: { $or: [{ 'data.currency': 'EUR' }, { 'data.billing.country': { $in: ['DE', 'FR', 'NL'] } }] },
      slackWebhookUrlEnv: 'SLACK_EUROPE_URL',
      slackWebhookSecret: 'dodo/slack-europe',
    },
    {
      id: 'Risk',
      events: ['dispute.*', 'payment.failed'],
      filter: { $not: { 'data.customer.email': { $endsWith: '@example.org' } } },
      slackWebhookUrlEnv: 'SLACK_RISK_URL',
      slackWebhookSecret: 'dodo/slack-risk',
    },
  ],
} as const;

export const ROUTE_IDS = ROUTING_CONFIG.routes.map((route) => route.id);

export interface RoutingEvent {
  readonly index: number;
  readonly type: string;
  readonly mode: WebhookMode;
  readonly body: string;
}

function fixture(type: string): { data: Record<string, unknown> } & Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, `${type}.json`), 'utf8')) as { data: Record<string, unknown> } & Record<string, unknown>;
}

/** Which routes take each event of {@link routingEvents}, by index, worked out by hand from the configuration. */
export const EXPECTED_ROUTES: readonly (readonly string[])[] = [
  [], // 29.99 USD
  ['Sales'], // 750 USD
  ['Sales', 'Europe'], // 2,500 EUR (Sales mentions the group: at least 1,000)
  ['Sales', 'Europe'], // 600 USD billed in Germany
  ['Europe', 'Risk'], // failed, EUR, billed in Germany
  ['Europe'], // failed, but the customer's address is excluded by Risk's $not
  ['Risk'], // dispute in USD
  ['Europe', 'Risk'], // dispute in EUR
  ['Europe'], // refund in EUR
  [], // renewal in USD
  ['Europe'], // payout in EUR
  [], // test mode, 5,000 USD: Sales takes live only
  ['Europe'], // test mode, 5,000 EUR
];

/** Events of several families; `data` fields overridden per event (the fixture's payment.failed is in EUR, billed in Germany). */
export function routingEvents(modes: readonly WebhookMode[] = ['live']): RoutingEvent[] {
  const specs: { type: string; data?: Record<string, unknown>; mode?: WebhookMode }[] = [
    { type: 'payment.succeeded' },
    { type: 'payment.succeeded', data: { total_amount: 75_000 } },
    { type: 'payment.succeeded', data: { total_amount: 250_000, currency: 'EUR' } },
    { type: 'payment.succeeded', data: { total_amount: 60_000, billing: { country: 'DE', city: 'Berlin', state: 'BE', street: 'x', zipcode: '10115' } } },
    { type: 'payment.failed' },
    { type: 'payment.failed', data: { customer: { customer_id: 'cus_t', email: 'qa@example.org', name: 'QA' } } },
    { type: 'dispute.opened' },
    { type: 'dispute.opened', data: { currency: 'EUR' } },
    { type: 'refund.succeeded', data: { currency: 'EUR' } },
    { type: 'subscription.renewed' },
    { type: 'payout.success', data: { currency: 'EUR' } },
    ...(modes.includes('test')
      ? [
          { type: 'payment.succeeded', data: { total_amount: 500_000 }, mode: 'test' as const },
          { type: 'payment.succeeded', data: { total_amount: 500_000, currency: 'EUR' }, mode: 'test' as const },
        ]
      : []),
  ];
  return specs.map((spec, index) => {
    const base = fixture(spec.type);
    const body = JSON.stringify({ ...base, timestamp: new Date((ROUTING_MARKER + index) * 1000).toISOString(), data: { ...base.data, ...spec.data } });
    return { index, type: spec.type, mode: spec.mode ?? 'live', body };
  });
}

/** The event a Slack message is about: the one envelope timestamp of the test's range it shows. */
export function eventIndexOf(slackBody: string, events: number): number | undefined {
  const markers = new Set([...slackBody.matchAll(/<!date\^(\d+)\^/g)].map((match) => Number(match[1]) - ROUTING_MARKER).filter((index) => index >= 0 && index < events));
  return markers.size === 1 ? [...markers][0] : undefined;
}

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { threadKeyOf, threadKindOf } from '../../../lambda/transformer/threads/thread-key';
import type { DodoWebhookEnvelope } from '../../../lambda/shared/webhook';
import { fixtureBody } from '../../support/delivery';

const envelope = (type: string, data: Record<string, unknown> = {}): DodoWebhookEnvelope => {
  const base = JSON.parse(fixtureBody(type)) as DodoWebhookEnvelope;
  return { ...base, data: { ...base.data, ...data } };
};

describe('thread keys (the table in thread-key.ts)', () => {
  test.each([
    ['payment.succeeded', 'payment:pay_gr4RizvMOXFJ6xca3y2tU'],
    ['refund.succeeded', 'payment:pay_gr4RizvMOXFJ6xca3y2tU'],
    ['refund.failed', 'payment:pay_gr4RizvMOXFJ6xca3y2tU'],
    ['dispute.opened', 'payment:pay_gr4RizvMOXFJ6xca3y2tU'],
    ['dispute.won', 'payment:pay_gr4RizvMOXFJ6xca3y2tU'],
    ['license_key.created', 'payment:pay_gr4RizvMOXFJ6xca3y2tU'],
    ['entitlement_grant.created', 'payment:pay_gr4RizvMOXFJ6xca3y2tU'],
    ['subscription.renewed', 'subscription:sub_Iuaq622bbmmfOGrVTqdXv'],
    ['subscription.cancelled', 'subscription:sub_Iuaq622bbmmfOGrVTqdXv'],
    ['dunning.started', 'subscription:sub_Iuaq622bbmmfOGrVTqdXv'],
    ['credit.balance_low', 'subscription:sub_Iuaq622bbmmfOGrVTqdXv'],
    ['credit.added', 'subscription:sub_Iuaq622bbmmfOGrVTqdXv'],
    ['payout.success', 'payout:pyt_zFTrrn4sk3x3y2vjDBW3T'],
    ['payout.failed', 'payout:pyt_zFTrrn4sk3x3y2vjDBW3T'],
    ['abandoned_checkout.detected', 'payment:pay_9KdWq2mXz7LpR4tYb1NcV'],
  ])('%s → %s', (type, key) => {
    expect(threadKeyOf(envelope(type))).toBe(key);
  });

  test('a renewal payment goes in its subscription thread', () => {
    expect(threadKeyOf(envelope('payment.succeeded', { subscription_id: 'sub_renew1' }))).toBe('subscription:sub_renew1');
  });

  test('credit events without a subscription, and unknown types, have no thread', () => {
    expect(threadKeyOf(envelope('credit.deducted'))).toBeUndefined();
    expect(threadKeyOf({ business_id: 'b', type: 'something.new', timestamp: '', data: { payment_id: 'pay_1' } })).toBeUndefined();
  });

  test('an id that is missing or not an id shape gives no thread (never a key built from arbitrary text)', () => {
    expect(threadKeyOf(envelope('refund.succeeded', { payment_id: null }))).toBeUndefined();
    expect(threadKeyOf(envelope('refund.succeeded', { payment_id: 'pay 1 <!channel>' }))).toBeUndefined();
    expect(threadKeyOf({ business_id: 'b', type: 'payment.succeeded', timestamp: '', data: null as never })).toBeUndefined();
  });

  test('every fixture of a family the table names gets a key of that kind', () => {
    const types = readdirSync(join(__dirname, '..', '..', 'fixtures', 'dodo')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
    for (const type of types) {
      const key = threadKeyOf(envelope(type));
      if (key !== undefined) expect(threadKindOf(key)).toMatch(/^(payment|subscription|payout)$/);
    }
  });
});

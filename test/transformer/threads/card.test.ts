import fc from 'fast-check';
import { applyEvent, cardOf, emptyCard, renderCard, sameCard } from '../../../lambda/transformer/threads/card';
import { validateSlackMessage } from '../../../lambda/messages/slack-limits';
import type { DodoWebhookEnvelope } from '../../../lambda/shared/webhook';
import { eventAt, PAYMENT_ID, PAYMENT_STORY, shownText } from '../../support/slack-app-story';

const KEY = `payment:${PAYMENT_ID}`;
const story = PAYMENT_STORY.map((event) => JSON.parse(event.body) as DodoWebhookEnvelope);

describe('the live card', () => {
  test('shows the payment, the refund so far and the dispute outcome', () => {
    const card = cardOf(KEY, story);
    const text = shownText(renderCard(card));
    expect(text).toContain('Payment succeeded');
    expect(text).toContain('refunded $10.00');
    expect(text).toContain('dispute won');
    expect(validateSlackMessage(renderCard(card))).toEqual([]);
  });

  test('whatever order the events arrive in, the card ends the same (property)', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(story, { minLength: story.length, maxLength: story.length }), (order) => {
        expect(sameCard(cardOf(KEY, order), cardOf(KEY, story))).toBe(true);
      }),
    );
  });

  test('never moves back to an older state: an older event after a newer one changes nothing', () => {
    const won = cardOf(KEY, [story[0], story[3]]);
    expect(sameCard(applyEvent(won, story[2]), won)).toBe(true);
    expect(shownText(renderCard(applyEvent(won, story[2])))).toContain('dispute won');
  });

  test('on an equal timestamp an earlier lifecycle step does not undo a later one', () => {
    const opened = JSON.parse(eventAt('dispute.opened', '2026-03-20T08:00:05.000Z')) as DodoWebhookEnvelope;
    const won = JSON.parse(eventAt('dispute.won', '2026-03-20T08:00:05.000Z')) as DodoWebhookEnvelope;
    expect(shownText(renderCard(cardOf(KEY, [won, opened])))).toContain('dispute won');
    expect(shownText(renderCard(cardOf(KEY, [opened, won])))).toContain('dispute won');
  });

  test('a late refund still counts after a newer dispute (each part keeps its own time)', () => {
    const card = cardOf(KEY, [story[0], story[3], story[1]]);
    expect(shownText(renderCard(card))).toContain('refunded $10.00');
  });

  test('an event without a timestamp never overrides one that has it', () => {
    const undated = { ...story[2], timestamp: '' };
    const won = cardOf(KEY, [story[3]]);
    expect(sameCard(applyEvent(won, undated), won)).toBe(true);
  });

  test('a dispute before its payment shows the dispute amount until the payment arrives', () => {
    const early = cardOf(KEY, [story[2]]);
    const text = shownText(renderCard(early));
    expect(text).toContain('$29.99');
    expect(text).toContain('not seen yet');
  });

  test('subscription card: status, amount and next billing; a renewal payment is its latest payment', () => {
    const renewed = JSON.parse(eventAt('subscription.renewed', '2026-04-14T09:26:53.000Z')) as DodoWebhookEnvelope;
    const payment = JSON.parse(eventAt('payment.succeeded', '2026-04-14T09:26:54.000Z', { subscription_id: 'sub_Iuaq622bbmmfOGrVTqdXv' })) as DodoWebhookEnvelope;
    const cancelled = JSON.parse(eventAt('subscription.cancelled', '2026-05-01T00:00:00.000Z', { status: 'cancelled' })) as DodoWebhookEnvelope;
    const card = cardOf('subscription:sub_Iuaq622bbmmfOGrVTqdXv', [renewed, payment]);
    const text = shownText(renderCard(card));
    expect(text).toContain('Subscription active');
    expect(text).toContain('next billing 2026-05-14');
    expect(text).toContain('Latest payment');
    expect(shownText(renderCard(applyEvent(card, cancelled)))).toContain('Subscription cancelled');
  });

  test('payout card follows the payout', () => {
    const created = JSON.parse(eventAt('payout.created', '2026-03-31T06:00:00.000Z', { status: 'not_initiated' })) as DodoWebhookEnvelope;
    const success = JSON.parse(eventAt('payout.success', '2026-03-31T07:00:00.000Z')) as DodoWebhookEnvelope;
    expect(shownText(renderCard(cardOf('payout:pyt_zFTrrn4sk3x3y2vjDBW3T', [success, created])))).toContain('Payout success');
  });

  test('payload text is escaped on the card (a status cannot ping the channel)', () => {
    const hostile = { ...story[0], data: { ...story[0].data, status: '<!channel>' } };
    const text = JSON.stringify(renderCard(applyEvent(emptyCard(KEY), hostile)));
    expect(text).not.toContain('<!channel>');
  });

  test('mentions configured for the built-in templates never apply to a card', () => {
    const card = cardOf(KEY, story);
    expect(renderCard(card, { mentions: { '*': '<!here>' } }).text).not.toContain('<!here>');
  });
});

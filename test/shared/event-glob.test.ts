import { canonicalEventType, compileEventGlobs, globProblems } from '../../lambda/shared/event-glob';

describe('compileEventGlobs', () => {
  test.each([
    [['*'], 'payment.succeeded', true],
    [['*'], 'some.future_type', true],
    [['payment.*'], 'payment.failed', true],
    [['payment.*'], 'refund.succeeded', false],
    // `*` runs across dots; a family glob does not match a type that only starts with the family name.
    [['payment*'], 'payment.succeeded', true],
    [['payment.*'], 'payments.succeeded', false],
    [['dispute.opened'], 'dispute.opened', true],
    [['dispute.opened'], 'dispute.opened.extra', false],
    [['dispute.opened'], 'xdispute.opened', false],
    [['*.failed'], 'payout.failed', true],
    [['*.failed'], 'payout.failed_again', false],
    [['refund.*', 'dispute.*'], 'dispute.won', true],
    [[], 'payment.succeeded', false],
  ])('%j matches %s: %s', (globs, eventType, expected) => {
    expect(compileEventGlobs(globs)(eventType)).toBe(expected);
  });

  test('dots and other regular-expression characters are literal', () => {
    expect(compileEventGlobs(['payment.succeeded'])('paymentXsucceeded')).toBe(false);
    expect(compileEventGlobs(['a-b'])('a-b')).toBe(true);
  });

  test("Dodo's legacy payout.not_initiated matches where payout.created is selected, not the other way round", () => {
    expect(compileEventGlobs(['payout.created'])('payout.not_initiated')).toBe(true);
    expect(compileEventGlobs(['payout.not_initiated'])('payout.created')).toBe(false);
    expect(compileEventGlobs(['payout.not_initiated'])('payout.not_initiated')).toBe(true);
  });
});

describe('canonicalEventType', () => {
  test('maps the legacy name and leaves every other type as it is', () => {
    expect(canonicalEventType('payout.not_initiated')).toBe('payout.created');
    expect(canonicalEventType('payout.created')).toBe('payout.created');
    expect(canonicalEventType('unknown.type')).toBe('unknown.type');
  });
});

describe('globProblems', () => {
  test('accepts the globs users write', () => {
    for (const glob of ['*', 'payment.*', 'dispute.opened', 'license_key.created', 'abandoned_checkout.*', 'a-b']) {
      expect(globProblems(glob)).toEqual([]);
    }
  });

  test('names an empty glob and a glob with characters outside the event-type alphabet', () => {
    expect(globProblems('')).toEqual(['an event glob must not be empty']);
    expect(globProblems('payment.?')).toEqual(['event glob "payment.?" may only contain letters, digits, "_", "-", "." and "*"']);
    expect(globProblems('payment, refund')).toHaveLength(1);
    expect(globProblems('dispute/opened')).toHaveLength(1);
  });
});

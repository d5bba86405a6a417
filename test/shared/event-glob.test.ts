import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { canonicalEventType, compileEventGlobs, globProblems, unknownGlobWarnings } from '../../lambda/shared/event-glob';
import { KNOWN_EVENT_TYPES } from '../../lambda/shared/event-types';

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

describe('unknownGlobWarnings', () => {
  test('a glob that matches no known type is named with the closest family or type', () => {
    expect(unknownGlobWarnings(['paymnt.*'])).toEqual([
      'event glob "paymnt.*" matches no Dodo event type this version knows (closest: "payment.*"); ' +
        'it is kept, in case Dodo has added such a type, but check the spelling',
    ]);
    expect(unknownGlobWarnings(['dispute.opend'])).toEqual([expect.stringContaining('(closest: "dispute.opened")')]);
    expect(unknownGlobWarnings(['subscriptions.*'])).toEqual([expect.stringContaining('(closest: "subscription.*")')]);
  });

  test('globs that match a known type, the legacy payout name included, give no warning', () => {
    expect(unknownGlobWarnings(['*', 'payment.*', '*.failed', 'dispute.opened', 'payout.not_initiated', 'payment*'])).toEqual([]);
  });

  test('a well-formed type Dodo may add later is warned about, not refused; a malformed glob is left to globProblems', () => {
    expect(globProblems('payment.partially_refunded')).toEqual([]);
    expect(unknownGlobWarnings(['payment.partially_refunded'])).toHaveLength(1);
    expect(unknownGlobWarnings(['payment.?'])).toEqual([]);
  });

  test('one warning per glob, however often it is listed', () => {
    expect(unknownGlobWarnings(['paymnt.*', 'paymnt.*', 'refnd.*'])).toHaveLength(2);
  });
});

test('the known event types are the ones the SDK names, one sample and one fixture each', () => {
  const root = path.join(__dirname, '..', '..');
  const names = (dir: string) =>
    readdirSync(path.join(root, dir))
      .filter((file) => file.endsWith('.json'))
      .map((file) => file.replace(/\.json$/, ''));
  expect(KNOWN_EVENT_TYPES).toHaveLength(48);
  expect([...KNOWN_EVENT_TYPES]).toEqual(names('samples').sort());
  expect(names('test/fixtures/dodo').sort()).toEqual([...KNOWN_EVENT_TYPES]);
});

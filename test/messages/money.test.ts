import {
  DODO_CURRENCY_EXPONENTS,
  formatMinorUnits,
  formatWithSettlement,
  minorToDecimalString,
  minorUnitExponent,
  parseMinorUnits,
} from '../../lambda/messages/money';

describe('minorUnitExponent', () => {
  it.each([
    ['JPY', 0], ['KRW', 0], ['VND', 0], ['CLP', 0], ['XOF', 0],
    ['USD', 2], ['EUR', 2], ['INR', 2], ['GBP', 2],
    // ISO 4217 says 2 for these even though Intl displays them with 0 decimals.
    ['HUF', 2], ['IDR', 2], ['COP', 2], ['TWD', 2],
    ['KWD', 3], ['BHD', 3], ['JOD', 3], ['OMR', 3], ['TND', 3], ['IQD', 3], ['LYD', 3],
    ['ISK', 0], ['CLF', 4], ['XYZ', 2], ['jpy', 0],
  ])('%s has %i decimals', (currency, exponent) => {
    expect(minorUnitExponent(currency)).toBe(exponent);
  });

  it('differs from Intl display digits for HUF, which is why the table exists', () => {
    const intlDigits = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'HUF' }).resolvedOptions().maximumFractionDigits;
    expect(intlDigits).not.toBe(DODO_CURRENCY_EXPONENTS.HUF);
  });
});

describe('formatMinorUnits', () => {
  it.each([
    [2999, 'USD', '$29.99'],
    [5, 'USD', '$0.05'],
    [0, 'USD', '$0.00'],
    [-1250, 'USD', '-$12.50'],
    [123456789, 'USD', '$1,234,567.89'],
    [1500, 'JPY', '¥1,500'],
    [4900, 'EUR', '€49.00'],
    [249900, 'INR', '₹2,499.00'],
    [12345, 'KWD', 'KWD 12.345'],
    [1005, 'BHD', 'BHD 1.005'],
    [1, 'OMR', 'OMR 0.001'],
    [150000, 'HUF', 'HUF 1,500.00'],
    [1000000, 'IDR', 'IDR 10,000.00'],
    [2999, 'CAD', 'CA$29.99'],
    [2999, 'CNY', 'CN¥29.99'],
    [2999, 'usd', '$29.99'],
    ['2999', 'USD', '$29.99'],
  ])('%p %s → %s', (amount, currency, expected) => {
    expect(formatMinorUnits(amount, currency)).toBe(expected);
  });

  it.each([
    [null, 'USD'], [undefined, 'USD'], [Number.NaN, 'USD'], [29.99, 'USD'], ['29.99', 'USD'], ['abc', 'USD'],
    [2999, null], [2999, undefined], [2999, ''], [2999, 'US Dollar'], [2999, 42],
  ])('is undefined (never $0.00 or NaN) for amount %p and currency %p', (amount, currency) => {
    expect(formatMinorUnits(amount, currency)).toBeUndefined();
  });
});

describe('formatWithSettlement', () => {
  it('adds the settlement amount when the settlement currency differs', () => {
    expect(formatWithSettlement(4900, 'EUR', 5312, 'USD')).toBe('€49.00 (settled as $53.12)');
    expect(formatWithSettlement(1500, 'JPY', 998, 'USD')).toBe('¥1,500 (settled as $9.98)');
  });

  it('shows only the charged amount when the currencies match or settlement is missing', () => {
    expect(formatWithSettlement(2999, 'USD', 2999, 'USD')).toBe('$29.99');
    expect(formatWithSettlement(2999, 'USD', null, null)).toBe('$29.99');
  });

  it('names the settlement currency when only its amount is unknown', () => {
    expect(formatWithSettlement(4900, 'EUR', null, 'USD')).toBe('€49.00 (settles in USD)');
  });

  it('is undefined when the charged amount is unknown', () => {
    expect(formatWithSettlement(null, 'EUR', 5312, 'USD')).toBeUndefined();
  });
});

describe('minor-unit helpers', () => {
  it('converts without float division', () => {
    expect(minorToDecimalString(1, 3)).toBe('0.001');
    expect(minorToDecimalString(-5, 2)).toBe('-0.05');
    expect(minorToDecimalString(1500, 0)).toBe('1500');
    expect(minorToDecimalString(100000000000001, 2)).toBe('1000000000000.01');
  });

  it('parses integer strings (dispute amounts) but not decimals', () => {
    expect(parseMinorUnits(' 2999 ')).toBe(2999);
    expect(parseMinorUnits('-10')).toBe(-10);
    expect(parseMinorUnits('1e3')).toBeUndefined();
    expect(parseMinorUnits(Number.MAX_SAFE_INTEGER + 2)).toBeUndefined();
  });
});

/**
 * Money as Dodo sends it: an integer in the currency's minor unit. The number of decimals comes
 * from an explicit ISO 4217 table, not from `Intl`, whose *display* digits differ from ISO minor
 * units for some currencies (Intl shows HUF, IDR, COP… with 0 decimals where ISO has 2; dividing
 * by the wrong power of ten would show amounts 100× off).
 */
import type { Currency } from 'dodopayments/resources/misc';

/** ISO 4217 minor-unit exponent for every currency Dodo supports (a missing one fails to compile). */
export const DODO_CURRENCY_EXPONENTS: Readonly<Record<Currency, number>> = {
  AED: 2, ALL: 2, AMD: 2, ANG: 2, AOA: 2, ARS: 2, AUD: 2, AWG: 2, AZN: 2, BAM: 2, BBD: 2, BDT: 2,
  BGN: 2, BHD: 3, BIF: 0, BMD: 2, BND: 2, BOB: 2, BRL: 2, BSD: 2, BWP: 2, BYN: 2, BZD: 2, CAD: 2,
  CHF: 2, CLP: 0, CNY: 2, COP: 2, CRC: 2, CUP: 2, CVE: 2, CZK: 2, DJF: 0, DKK: 2, DOP: 2, DZD: 2,
  EGP: 2, ETB: 2, EUR: 2, FJD: 2, FKP: 2, GBP: 2, GEL: 2, GHS: 2, GIP: 2, GMD: 2, GNF: 0, GTQ: 2,
  GYD: 2, HKD: 2, HNL: 2, HRK: 2, HTG: 2, HUF: 2, IDR: 2, ILS: 2, INR: 2, IQD: 3, JMD: 2, JOD: 3,
  JPY: 0, KES: 2, KGS: 2, KHR: 2, KMF: 0, KRW: 0, KWD: 3, KYD: 2, KZT: 2, LAK: 2, LBP: 2, LKR: 2,
  LRD: 2, LSL: 2, LYD: 3, MAD: 2, MDL: 2, MGA: 2, MKD: 2, MMK: 2, MNT: 2, MOP: 2, MRU: 2, MUR: 2,
  MVR: 2, MWK: 2, MXN: 2, MYR: 2, MZN: 2, NAD: 2, NGN: 2, NIO: 2, NOK: 2, NPR: 2, NZD: 2, OMR: 3,
  PAB: 2, PEN: 2, PGK: 2, PHP: 2, PKR: 2, PLN: 2, PYG: 0, QAR: 2, RON: 2, RSD: 2, RUB: 2, RWF: 0,
  SAR: 2, SBD: 2, SCR: 2, SEK: 2, SGD: 2, SHP: 2, SLE: 2, SLL: 2, SOS: 2, SRD: 2, SSP: 2, STN: 2,
  SVC: 2, SZL: 2, THB: 2, TND: 3, TOP: 2, TRY: 2, TTD: 2, TWD: 2, TZS: 2, UAH: 2, UGX: 0, USD: 2,
  UYU: 2, UZS: 2, VES: 2, VND: 0, VUV: 0, WST: 2, XAF: 0, XCD: 2, XOF: 0, XPF: 0, YER: 2, ZAR: 2,
  ZMW: 2,
};

/** ISO 4217 currencies Dodo does not list (yet) whose exponent is not 2. */
const OTHER_EXPONENTS: Readonly<Record<string, number>> = {
  ISK: 0, UYI: 0, CLF: 4, UYW: 4,
};

const CURRENCY_CODE = /^[A-Z]{3}$/;

/** Decimals of `currency`'s minor unit per ISO 4217; 2 for a code the table does not know. */
export function minorUnitExponent(currency: string): number {
  const code = currency.toUpperCase();
  if (Object.prototype.hasOwnProperty.call(DODO_CURRENCY_EXPONENTS, code)) {
    return DODO_CURRENCY_EXPONENTS[code as Currency];
  }
  return OTHER_EXPONENTS[code] ?? 2;
}

/** An integer amount of minor units from a number or an integer string; undefined otherwise. */
export function parseMinorUnits(amount: unknown): number | undefined {
  if (typeof amount === 'number') return Number.isSafeInteger(amount) ? amount : undefined;
  if (typeof amount === 'string' && /^\s*-?\d{1,15}\s*$/.test(amount)) return Number(amount.trim());
  return undefined;
}

/** The currency code in upper case, or undefined when the value is not a three-letter code. */
export function currencyCode(currency: unknown): string | undefined {
  if (typeof currency !== 'string') return undefined;
  const code = currency.trim().toUpperCase();
  return CURRENCY_CODE.test(code) ? code : undefined;
}

const formatters = new Map<string, Intl.NumberFormat | null>();

function formatterFor(code: string, exponent: number): Intl.NumberFormat | null {
  const key = `${code}:${exponent}`;
  let formatter = formatters.get(key);
  if (formatter === undefined) {
    try {
      // en-US symbols tell dollars apart (`$`, `CA$`, `A$`) and fall back to the code (`KWD 1.000`).
      formatter = new Intl.NumberFormat('en-US', {
        style: 'currency',
        currency: code,
        currencyDisplay: 'symbol',
        minimumFractionDigits: exponent,
        maximumFractionDigits: exponent,
      });
    } catch {
      formatter = null;
    }
    formatters.set(key, formatter);
  }
  return formatter;
}

/** `12345` minor units at `exponent` 2 → `"123.45"` (exact: string arithmetic, no float division). */
export function minorToDecimalString(minor: number, exponent: number): string {
  const negative = minor < 0;
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/**
 * `formatMinorUnits(2999, 'USD')` → `"$29.99"`, `(1500, 'JPY')` → `"¥1,500"`, `(12345, 'KWD')` →
 * `"KWD 12.345"`. Undefined when the amount or the currency is missing or not a valid value, so
 * callers show "unknown" instead of `$0.00` or `NaN`.
 */
export function formatMinorUnits(amount: unknown, currency: unknown): string | undefined {
  const minor = parseMinorUnits(amount);
  const code = currencyCode(currency);
  if (minor === undefined || code === undefined) return undefined;
  const exponent = minorUnitExponent(code);
  const decimal = minorToDecimalString(minor, exponent);
  const formatter = formatterFor(code, exponent);
  if (formatter === null) return `${decimal} ${code}`;
  // Number(decimal) is exact enough here: at most 15 digits, and Intl rounds to `exponent` places.
  return formatter.format(Number(decimal)).replace(/\u00a0/g, ' ');
}

/**
 * An amount with the settlement amount after it when the settlement currency differs:
 * `"€27.50 (settled as $29.99)"`. Undefined when the charged amount itself is unknown.
 */
export function formatWithSettlement(
  amount: unknown,
  currency: unknown,
  settlementAmount: unknown,
  settlementCurrency: unknown,
): string | undefined {
  const charged = formatMinorUnits(amount, currency);
  if (charged === undefined) return undefined;
  const chargedCode = currencyCode(currency);
  const settledCode = currencyCode(settlementCurrency);
  if (settledCode === undefined || settledCode === chargedCode) return charged;
  const settled = formatMinorUnits(settlementAmount, settledCode);
  return settled === undefined ? `${charged} (settles in ${settledCode})` : `${charged} (settled as ${settled})`;
}

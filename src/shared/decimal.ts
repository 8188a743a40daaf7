import { Decimal as BaseDecimal } from 'decimal.js';

/**
 * The one decimal type of the project. Money never passes through a binary float: amounts are
 * `Decimal` in code, `NUMERIC(38,8)` in PostgreSQL and decimal strings on the wire.
 * Precision 60 significant digits keeps every product of two NUMERIC(38,8) values exact.
 */
export const Decimal = BaseDecimal.clone({ precision: 60, rounding: BaseDecimal.ROUND_HALF_UP });
export type Decimal = BaseDecimal;

/** Every asset, the quote asset included, is kept to this many decimal places (SPEC §3). */
export const AMOUNT_SCALE = 8;

/** Largest absolute amount a NUMERIC(38,8) column holds: 30 integer digits. */
export const AMOUNT_MAX = new Decimal('1e30').minus('1e-8');

/**
 * Largest balance a wallet account (one asset, available or locked) may hold: 10^15 units — far
 * above any paper use, and far enough below NUMERIC(38,8)'s 10^30 that no sum or product of two
 * amounts the ledger accepts (a notional, a bet's payout, a short's collateral) can overflow a
 * column. Deposits, fills, payouts and short notionals beyond it are refused (422).
 */
export const BALANCE_MAX = new Decimal('1e15');

/** Significant digits above which a JSON number is ambiguous (a double holds 15 safely). */
export const JSON_NUMBER_DIGITS_MAX = 15;

const DECIMAL_TEXT = /^\d{1,40}(\.\d{1,40})?$/;

/** True for a plain non-negative decimal string such as `"0.001"` or `"10000"` (no sign, no exponent). */
export function isDecimalString(text: string): boolean {
  return DECIMAL_TEXT.test(text);
}

/** Rounds half-up to the ledger's scale (8 decimal places), once, at the end of a calculation. */
export function roundAmount(value: Decimal): Decimal {
  return value.toDecimalPlaces(AMOUNT_SCALE, Decimal.ROUND_HALF_UP);
}

/** Decimal string for the wire: no exponent, no trailing zeros (`"43250.12"`, `"10000"`). */
export function formatDecimal(value: Decimal | string): string {
  return new Decimal(value).toFixed();
}

/** Why a client-supplied amount was refused, or the parsed value. */
export type AmountParse = { ok: true; value: Decimal } | { ok: false; reason: string };

/**
 * Parses an amount a client sent as a decimal string or a JSON number.
 * Accepts only finite, positive values with at most 8 decimal places that fit NUMERIC(38,8);
 * a JSON number with more than 15 significant digits is refused as ambiguous.
 */
export function parsePositiveAmount(input: string | number): AmountParse {
  let value: Decimal;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, reason: 'must be a finite number' };
    value = new Decimal(input);
    // Trailing zeros of an integer are not significant: 1e20 is one significant digit.
    if (value.sd(false) > JSON_NUMBER_DIGITS_MAX) {
      return { ok: false, reason: 'has more than 15 significant digits: send it as a decimal string' };
    }
  } else {
    const text = input.trim();
    if (!isDecimalString(text)) {
      return { ok: false, reason: 'must be a positive decimal number such as "0.5" or "100"' };
    }
    value = new Decimal(text);
  }
  if (value.lte(0)) return { ok: false, reason: 'must be greater than 0' };
  if (value.decimalPlaces() > AMOUNT_SCALE) {
    return { ok: false, reason: `has more than ${AMOUNT_SCALE} decimal places` };
  }
  if (value.gt(AMOUNT_MAX)) return { ok: false, reason: 'is too large' };
  return { ok: true, value };
}

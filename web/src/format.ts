import Decimal from 'decimal.js';

/** Inserts thousands separators into the integer part of a plain decimal string. */
function group(text: string): string {
  const [whole = '', fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return fraction === undefined ? grouped : `${grouped}.${fraction}`;
}

/**
 * A decimal string for display: rounded half-up to at most `dp` places (trailing zeros dropped, or
 * kept to exactly `dp` with `fixed`), thousands grouped. Never through a float. `null` → "—".
 */
export function fmt(value: string | null | undefined, dp = 8, fixed = false): string {
  if (value === null || value === undefined || value === '') return '—';
  let d: Decimal;
  try {
    d = new Decimal(value);
  } catch {
    return value;
  }
  const rounded = d.toDecimalPlaces(dp, Decimal.ROUND_HALF_UP);
  return group(fixed ? rounded.toFixed(dp) : rounded.toFixed());
}

/** An amount of the quote asset: two places. */
export function fmtMoney(value: string | null | undefined): string {
  return fmt(value, 2, true);
}

/** A signed amount (P&L): "+" or "−" in front, so colour is never the only signal. */
export function fmtSigned(value: string | null | undefined, dp = 2, fixed = true): string {
  if (value === null || value === undefined) return '—';
  const d = new Decimal(value);
  const text = fmt(d.abs().toString(), dp, fixed);
  if (d.isZero()) return text;
  return d.isNegative() ? `−${text}` : `+${text}`;
}

/** The CSS class of a signed value, for colour (the sign says it too). */
export function signClass(value: string | null | undefined): string {
  if (!value) return '';
  const d = new Decimal(value);
  return d.isZero() ? '' : d.isNegative() ? 'neg' : 'pos';
}

/** An ISO 8601 instant in the reader's local time. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** A side as a person says it. */
export function sideLabel(side: string): string {
  return side === 'close_short' ? 'Close short' : side.charAt(0).toUpperCase() + side.slice(1);
}

/** True when a text is a positive decimal amount the API would read. */
export function isPositiveDecimal(text: string): boolean {
  if (!/^\d+(\.\d+)?$/.test(text.trim())) return false;
  return new Decimal(text.trim()).gt(0);
}

/** An order type as a person says it: "Stop loss limit" for `stop_loss_limit`. */
export function typeLabel(type: string): string {
  const words = type.replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** An order in a few words, for status lines, labels and toasts: "Buy 0.001 BTCUSDT limit at 45,000". */
export function describeOrder(o: {
  side?: string | null;
  quantity?: string | null;
  symbol?: string | null;
  type?: string | null;
  price?: string | null;
  stop_price?: string | null;
}): string {
  const at = o.price ? ` at ${fmt(o.price)}` : '';
  const stop = o.stop_price ? ` stop ${fmt(o.stop_price)}` : '';
  return `${sideLabel(o.side ?? '')} ${fmt(o.quantity)} ${o.symbol ?? ''} ${typeLabel(o.type ?? '').toLowerCase()}${at}${stop}`;
}

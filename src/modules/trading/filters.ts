import { BALANCE_MAX, Decimal, formatDecimal } from '../../shared/decimal.js';
import { BalanceLimitError } from '../ledger/index.js';
import type { SymbolInfo } from '../market/index.js';
import { FilterFailureError, OrderTooSmallError } from './errors.js';
import type { Fill, OrderSide } from './fills.js';

/** The ledger's smallest step: every quantity is kept to 8 decimals. */
const LEDGER_STEP = new Decimal('0.00000001');

/** The LOT_SIZE step of a symbol (the ledger's 8-decimal step when the source has no filters). */
export function lotStep(info: SymbolInfo | undefined): Decimal {
  const step = info?.stepSize ? new Decimal(info.stepSize) : undefined;
  return step?.gt(0) ? step : LEDGER_STEP;
}

/** Rounds a quantity DOWN to the lot step (used for orders given by quote amount). */
export function roundDownToStep(quantity: Decimal, info: SymbolInfo | undefined): Decimal {
  const step = lotStep(info);
  return quantity.dividedToIntegerBy(step).times(step);
}

/**
 * Binance's LOT_SIZE filter, as Binance applies it to a market order: `quantity` must be at least
 * minQty, at most maxQty, and a whole number of stepSize. An off-step quantity is rejected, not
 * rounded (a bot must see the rejection Binance would give it). With `waiveMinQty` (a close_short,
 * which may buy back a whole position smaller than minQty) a quantity below minQty passes here.
 * @returns the minQty waived, for the caller to hold against the position; undefined otherwise
 * @throws {FilterFailureError} (422) naming `LOT_SIZE`
 */
export function checkLotSize(
  quantity: Decimal,
  info: SymbolInfo | undefined,
  waiveMinQty = false,
): Decimal | undefined {
  const symbol = info?.symbol;
  let waived: Decimal | undefined;
  const bounds = [
    ['minQty', info?.minQty, (limit: Decimal) => quantity.lt(limit), 'below the minimum'],
    ['maxQty', info?.maxQty, (limit: Decimal) => quantity.gt(limit), 'above the maximum'],
  ] as const;
  for (const [name, text, breaks, what] of bounds) {
    const limit = text ? new Decimal(text) : undefined;
    if (!limit?.gt(0) || !breaks(limit)) continue;
    if (name === 'minQty' && waiveMinQty) {
      waived = limit;
      continue;
    }
    throw new FilterFailureError('LOT_SIZE', `quantity is ${what} of ${formatDecimal(limit)}`, {
      symbol,
      [name]: formatDecimal(limit),
    });
  }
  const step = lotStep(info);
  if (!quantity.mod(step).isZero()) {
    throw new FilterFailureError(
      'LOT_SIZE',
      `quantity must be a multiple of the step ${formatDecimal(step)}`,
      {
        symbol,
        stepSize: formatDecimal(step),
      },
    );
  }
  return waived;
}

/**
 * Binance's MIN_NOTIONAL / NOTIONAL filter: price × quantity must be at least minNotional.
 * @throws {FilterFailureError} (422) naming `NOTIONAL`
 */
export function checkNotional(notional: Decimal, info: SymbolInfo | undefined): void {
  if (info?.minNotional && notional.lt(info.minNotional)) {
    throw new FilterFailureError(
      'NOTIONAL',
      `the order's notional ${formatDecimal(notional)} is below the minimum of ${formatDecimal(info.minNotional)}`,
      {
        symbol: info.symbol,
        minNotional: formatDecimal(info.minNotional),
        notional: formatDecimal(notional),
      },
    );
  }
}

/**
 * A close_short below minQty is allowed only when it buys back the whole position.
 * @throws {FilterFailureError} (422) naming `LOT_SIZE` when `quantity` leaves some of it open
 */
export function checkCloseBelowMinQty(
  quantity: Decimal,
  openQuantity: Decimal,
  symbol: string,
  minQty: Decimal,
): void {
  if (quantity.eq(openQuantity)) return;
  throw new FilterFailureError(
    'LOT_SIZE',
    `quantity is below the minimum of ${formatDecimal(minQty)} (allowed only to close the whole position of ${formatDecimal(openQuantity)})`,
    { symbol, minQty: formatDecimal(minQty), open_quantity: formatDecimal(openQuantity) },
  );
}

/**
 * Binance's PRICE_FILTER on a limit or stop price: at least minPrice, at most maxPrice (each when
 * non-zero), and (price − minPrice) a whole number of tickSize (when non-zero).
 * @param field the request field checked, named in the error (`price`, `stop_price`)
 * @throws {FilterFailureError} (422) naming `PRICE_FILTER`
 */
export function checkPriceFilter(price: Decimal, info: SymbolInfo | undefined, field: string): void {
  const limit = (text: string | undefined) =>
    text && new Decimal(text).gt(0) ? new Decimal(text) : undefined;
  const min = limit(info?.minPrice);
  const max = limit(info?.maxPrice);
  const tick = limit(info?.tickSize);
  const fail = (reason: string, details: Record<string, string>) => {
    throw new FilterFailureError('PRICE_FILTER', `${field} ${reason}`, {
      symbol: info?.symbol,
      field,
      ...details,
    });
  };
  if (min && price.lt(min))
    fail(`is below the minimum of ${formatDecimal(min)}`, { minPrice: formatDecimal(min) });
  if (max && price.gt(max))
    fail(`is above the maximum of ${formatDecimal(max)}`, { maxPrice: formatDecimal(max) });
  if (
    tick &&
    !price
      .minus(min ?? 0)
      .mod(tick)
      .isZero()
  )
    fail(`must be a multiple of the tick size ${formatDecimal(tick)}`, { tickSize: formatDecimal(tick) });
  if (price.decimalPlaces() > 8) fail('has more than 8 decimals', {});
}

/**
 * An order whose quantity or notional exceeds the largest balance could never be held by any
 * wallet: refused before any row is locked (and before a position could overflow its columns).
 * @throws {BalanceLimitError} (422)
 */
function checkBalanceLimit(fill: Fill): void {
  for (const [field, value] of [
    ['quantity', fill.quantity],
    ['notional', fill.notional],
  ] as const) {
    if (value.gt(BALANCE_MAX)) {
      throw new BalanceLimitError(
        `the order's ${field} exceeds the largest balance an account may hold (${formatDecimal(BALANCE_MAX)})`,
        { [field]: formatDecimal(value), balance_max: formatDecimal(BALANCE_MAX) },
      );
    }
  }
}

/**
 * The size rules of a fill, market or at a resting order's own price: within the largest balance,
 * a notional that is not 0 at 8 decimals, and NOTIONAL's minimum — but for a close_short, which may
 * always buy back a whole position, however small it has become.
 * @throws {BalanceLimitError}, {OrderTooSmallError}, {FilterFailureError} (422)
 */
export function checkFillSize(side: OrderSide, fill: Fill, info: SymbolInfo | undefined): void {
  checkBalanceLimit(fill);
  if (fill.notional.lte(0)) {
    throw new OrderTooSmallError('order too small: its notional rounds to 0 at 8 decimals', {
      quantity: formatDecimal(fill.quantity),
      price: formatDecimal(fill.price),
    });
  }
  if (side !== 'close_short') checkNotional(fill.notional, info);
}

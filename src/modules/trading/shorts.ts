import { sql } from 'drizzle-orm';
import type { Tx } from '../../platform/db/client.js';
import { Decimal, roundAmount } from '../../shared/decimal.js';
import {
  available,
  InsufficientFundsError,
  type Ledger,
  type Posting,
  shortCollateral,
  system,
} from '../ledger/index.js';
import { InsufficientMarginError, NoOpenShortError } from './errors.js';
import type { Fill } from './fills.js';
import {
  insertPositionIfNoneOpen,
  lockOpenPosition,
  type PositionRow,
  updatePosition,
} from './repository.js';

/** The margin rates of shorts, fractions of the notional (SPEC §2). */
export interface MarginRates {
  /** held when a short opens, e.g. "0.5" */
  initial: string;
  /** the least equity an open short may keep before it is liquidated, e.g. "0.3" */
  maintenance: string;
}

/** Where a short is opened or closed. */
export interface ShortTarget {
  userId: string;
  walletId: string;
  symbol: string;
  baseAsset: string;
  quoteAsset: string;
}

/** A short opened (or added to) by one fill, and the journal that moved its money. */
export interface ShortOpened {
  position: PositionRow;
  journalId: number;
}

/**
 * Opens a short, or adds to the wallet's open short on the symbol, in `tx`: the sale proceeds
 * (notional at the bid) and the initial margin (`initial` × notional) move to the wallet's locked
 * quote account, the fee to the fee account. The base asset balance does not change. The position
 * row is locked before the ledger's accounts (the order every short path takes).
 * @throws {InsufficientMarginError} (400) when free quote < margin + fee; nothing is written
 */
export async function openShort(
  tx: Tx,
  ledger: Ledger,
  target: ShortTarget,
  fill: Fill,
  rates: MarginRates,
): Promise<ShortOpened> {
  const margin = roundAmount(fill.price.times(fill.quantity).times(rates.initial));
  const collateral = fill.notional.plus(margin);
  let position = await lockOpenPosition(tx, target.walletId, target.symbol);
  if (!position) {
    position = await insertPositionIfNoneOpen(tx, {
      ...target,
      status: 'open',
      quantity: fill.quantity.toFixed(),
      entryPrice: fill.price.toFixed(),
      collateral: collateral.toFixed(),
      margin: margin.toFixed(),
      openFees: fill.fee.toFixed(),
    });
    // A concurrent short on the same wallet and symbol opened it first: add to that one.
    if (!position) position = await addToPosition(tx, target, fill, margin);
  } else {
    position = await addToPosition(tx, target, fill, margin, position);
  }
  const wallet = available(target.walletId);
  const held = shortCollateral(target.walletId, position.id);
  const postings: Posting[] = [
    { source: system('exchange'), destination: held, asset: target.quoteAsset, amount: fill.notional },
  ];
  if (margin.gt(0))
    postings.push({ source: wallet, destination: held, asset: target.quoteAsset, amount: margin });
  if (fill.fee.gt(0))
    postings.push({
      source: wallet,
      destination: system('fees'),
      asset: target.quoteAsset,
      amount: fill.fee,
    });
  try {
    const journal = await ledger.post(tx, {
      kind: 'short_open',
      postings,
      metadata: { symbol: target.symbol, position_id: position.id },
    });
    return { position, journalId: journal.journalId };
  } catch (error) {
    if (!(error instanceof InsufficientFundsError)) throw error;
    throw new InsufficientMarginError(
      `insufficient margin: a short of this size needs ${margin.plus(fill.fee).toFixed()} ${target.quoteAsset} free (initial margin plus fee)`,
      { required: margin.plus(fill.fee).toFixed(), available: error.details?.available },
    );
  }
}

async function addToPosition(
  tx: Tx,
  target: ShortTarget,
  fill: Fill,
  margin: Decimal,
  current?: PositionRow,
): Promise<PositionRow> {
  const position = current ?? (await lockOpenPosition(tx, target.walletId, target.symbol));
  if (!position) throw new Error('the open position that blocked the insert is gone');
  const quantity = new Decimal(position.quantity).plus(fill.quantity);
  // The entry price is the quantity-weighted average of the sales.
  const entryPrice = roundAmount(
    new Decimal(position.entryPrice)
      .times(position.quantity)
      .plus(fill.price.times(fill.quantity))
      .div(quantity),
  );
  return await updatePosition(tx, position.id, {
    quantity: quantity.toFixed(),
    entryPrice: entryPrice.toFixed(),
    collateral: new Decimal(position.collateral).plus(fill.notional).plus(margin).toFixed(),
    margin: new Decimal(position.margin).plus(margin).toFixed(),
    openFees: new Decimal(position.openFees).plus(fill.fee).toFixed(),
  });
}

/** What closing (part of) a short releases and realizes. */
export interface ShortClosed {
  position: PositionRow;
  journalId: number;
  /**
   * (entry − exit) × quantity − the opening fees of that quantity − the closing fee, quote asset,
   * computed from the sale proceeds actually held; a liquidation beyond the collateral realizes
   * only what the user loses (margin and opening fees), the insurance account takes the rest
   */
  realizedPnl: Decimal;
  /** the part of the buy-back the insurance account paid (liquidation beyond the collateral) */
  insurancePaid: Decimal;
  /** the fee charged: the fill's, or what the collateral had left for it in a liquidation */
  fee: Decimal;
}

/**
 * The open short of the wallet on the symbol, locked for the rest of `tx`.
 * @throws {NoOpenShortError} (409) when there is none, or it is smaller than `quantity`
 */
export async function requireOpenShort(
  tx: Tx,
  walletId: string,
  symbol: string,
  quantity?: Decimal,
): Promise<PositionRow> {
  const position = await lockOpenPosition(tx, walletId, symbol);
  if (!position) throw new NoOpenShortError(`no open short on ${symbol} in this wallet`, { symbol });
  if (quantity?.gt(position.quantity)) {
    throw new NoOpenShortError(
      `the open short on ${symbol} is only ${new Decimal(position.quantity).toFixed()}`,
      {
        symbol,
        open_quantity: new Decimal(position.quantity).toFixed(),
      },
    );
  }
  return position;
}

/**
 * Buys back `fill.quantity` of a locked open short at the ask: its share of the collateral (pro rata;
 * all of it on a full close) is released. The owner's close pays the buy-back and the fee from the
 * wallet's free quote. A liquidation pays them from the released collateral only; what the collateral
 * cannot cover is paid by the insurance account, and the fee is cut to what is left — a user balance
 * never goes below zero.
 * @throws {InsufficientFundsError} (400) when the owner's free quote cannot pay the buy-back
 */
export async function closeShort(
  tx: Tx,
  ledger: Ledger,
  position: PositionRow,
  fill: Fill,
  liquidation: boolean,
): Promise<ShortClosed> {
  const quantity = new Decimal(position.quantity);
  const full = fill.quantity.eq(quantity);
  const share = (value: string) =>
    full ? new Decimal(value) : roundAmount(new Decimal(value).times(fill.quantity).div(quantity));
  const release = share(position.collateral);
  const marginRelease = share(position.margin);
  const openFeeShare = share(position.openFees);

  const quote = position.quoteAsset;
  const wallet = available(position.walletId);
  const held = shortCollateral(position.walletId, position.id);
  const postings: Posting[] = [];
  let insurancePaid = new Decimal(0);
  let fee = fill.fee;
  // What this close gives back to the available quote (negative: what it takes from it).
  let cashBack: Decimal;
  if (!liquidation) {
    if (release.gt(0)) postings.push({ source: held, destination: wallet, asset: quote, amount: release });
    postings.push({ source: wallet, destination: system('exchange'), asset: quote, amount: fill.notional });
    if (fee.gt(0)) postings.push({ source: wallet, destination: system('fees'), asset: quote, amount: fee });
    cashBack = release.minus(fill.notional).minus(fee);
  } else {
    const fromCollateral = Decimal.min(release, fill.notional);
    insurancePaid = fill.notional.minus(fromCollateral);
    fee = Decimal.min(fee, release.minus(fromCollateral));
    cashBack = release.minus(fromCollateral).minus(fee);
    if (insurancePaid.gt(0))
      postings.push({ source: system('insurance'), destination: held, asset: quote, amount: insurancePaid });
    postings.push({ source: held, destination: system('exchange'), asset: quote, amount: fill.notional });
    if (fee.gt(0)) postings.push({ source: held, destination: system('fees'), asset: quote, amount: fee });
    if (cashBack.gt(0)) postings.push({ source: held, destination: wallet, asset: quote, amount: cashBack });
  }
  const journal = await ledger.post(tx, {
    kind: liquidation ? 'short_liquidation' : 'short_close',
    postings,
    metadata: { symbol: position.symbol, position_id: position.id },
  });
  // The cash this short gave and gives back: its margin and opening fees went out when it opened.
  // Equal to (entry − exit) × quantity − fees, but from the amounts actually moved, so the realized
  // P&L of all closes adds up to the cash exactly (the weighted entry price is rounded).
  const realizedPnl = cashBack.minus(marginRelease).minus(openFeeShare);
  const updated = await updatePosition(tx, position.id, {
    quantity: quantity.minus(fill.quantity).toFixed(),
    collateral: new Decimal(position.collateral).minus(release).toFixed(),
    margin: new Decimal(position.margin).minus(marginRelease).toFixed(),
    openFees: new Decimal(position.openFees).minus(openFeeShare).toFixed(),
    realizedPnl: new Decimal(position.realizedPnl).plus(realizedPnl).toFixed(),
    // The transaction's time, as the closing order's created_at: no clock of this process's.
    ...(full ? { status: 'closed' as const, closedAt: sql`now()` } : {}),
  });
  return { position: updated, journalId: journal.journalId, realizedPnl, insurancePaid, fee };
}

/**
 * The buy-back price at which a short's equity (collateral − quantity × ask) falls to the
 * maintenance margin (`maintenance` × quantity × ask): collateral / (quantity × (1 + maintenance)).
 */
export function liquidationPrice(
  position: Pick<PositionRow, 'collateral' | 'quantity'>,
  maintenance: string,
): Decimal {
  return roundAmount(
    new Decimal(position.collateral).div(
      new Decimal(position.quantity).times(new Decimal(1).plus(maintenance)),
    ),
  );
}

/** True when a short's equity at `ask` is below the maintenance margin. */
export function isBelowMaintenance(
  position: Pick<PositionRow, 'collateral' | 'quantity'>,
  ask: Decimal,
  maintenance: string,
): boolean {
  const buyBack = ask.times(position.quantity);
  return new Decimal(position.collateral).minus(buyBack).lt(buyBack.times(maintenance));
}

import type { Db } from '../../platform/db/client.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import { defined } from '../../shared/assert.js';
import { Decimal, formatDecimal, roundAmount } from '../../shared/decimal.js';
import { type PriceService, PriceUnavailableError, type Quote } from '../market/index.js';
import { getWallet } from '../wallets/index.js';
import { readBooks } from './cost-basis.js';
import { listOpenPositions, type PositionRow } from './repository.js';
import { liquidationPrice } from './shorts.js';

/** An open short valued at the current ask (its buy-back price); amounts are decimal strings. */
export interface PositionView {
  id: string;
  wallet_id: string;
  symbol: string;
  /** base asset owed */
  quantity: string;
  /** weighted average sale price, quote asset */
  entry_price: string;
  /** the ask: what buying it back costs per unit now */
  mark_price: string;
  /** (entry − mark) × quantity, quote asset, fees excluded */
  unrealized_pnl: string;
  /** the initial margin held, quote asset */
  margin: string;
  /** everything held for it: sale proceeds plus margin, quote asset */
  collateral: string;
  /** the ask at which it is liquidated */
  liquidation_price: string;
  opened_at: string;
}

function toPositionView(position: PositionRow, quote: Quote, maintenance: string): PositionView {
  const mark = new Decimal(quote.ask);
  return {
    id: position.id,
    wallet_id: position.walletId,
    symbol: position.symbol,
    quantity: formatDecimal(position.quantity),
    entry_price: formatDecimal(position.entryPrice),
    mark_price: formatDecimal(mark),
    unrealized_pnl: formatDecimal(
      roundAmount(new Decimal(position.entryPrice).minus(mark).times(position.quantity)),
    ),
    margin: formatDecimal(position.margin),
    collateral: formatDecimal(position.collateral),
    liquidation_price: formatDecimal(liquidationPrice(position, maintenance)),
    opened_at: position.openedAt.toISOString(),
  };
}

/**
 * What valuations read: prices young enough to trade on (SPEC §3 "Prices"), every one of them — a
 * valuation that left out a position it cannot price would misstate the equity.
 * @throws {PriceUnavailableError} (503) when one of them cannot be had (or the source no longer lists it)
 */
async function quotesOf(prices: PriceService, symbols: string[]): Promise<Map<string, Quote>> {
  if (symbols.length === 0) return new Map();
  const { quotes, unknown } = await prices.getQuotes(symbols, 'trade');
  if (unknown.length > 0)
    throw new PriceUnavailableError(defined(unknown[0]), 'the price source no longer lists it');
  return new Map(quotes.map((q) => [q.symbol, q]));
}

async function positionViews(
  prices: PriceService,
  rows: PositionRow[],
  maintenance: string,
): Promise<PositionView[]> {
  const quotes = await quotesOf(prices, [...new Set(rows.map((p) => p.symbol))]);
  return rows.map((p) => toPositionView(p, defined(quotes.get(p.symbol)), maintenance));
}

/**
 * The caller's open shorts, valued at the current ask.
 * @throws {PriceUnavailableError} (503) when a price young enough cannot be had
 */
export async function listPositions(
  deps: { db: Db; prices: PriceService; maintenanceMarginRate: string },
  userId: string,
): Promise<{ items: PositionView[] }> {
  const rows = await listOpenPositions(deps.db, { userId });
  return { items: await positionViews(deps.prices, rows, deps.maintenanceMarginRate) };
}

/** One asset held, valued at the bid; amounts are decimal strings. */
export interface HoldingView {
  asset: string;
  /** available + locked, base asset */
  quantity: string;
  /** average cost of the units bought (fees included), quote asset per unit; null when none was bought */
  average_cost: string | null;
  /** the bid: what selling it would get per unit now */
  mark_price: string;
  /** quantity × mark price, quote asset */
  market_value: string;
  /** market value − quantity × average cost, quote asset */
  unrealized_pnl: string;
}

/** A wallet valued at live prices. */
export interface PortfolioView {
  wallet_id: string;
  quote_asset: string;
  holdings: HoldingView[];
  shorts: PositionView[];
  totals: {
    /** quote asset held, available + locked (short collateral and escrow included) */
    cash: string;
    /** cash + Σ holdings × bid − Σ shorts' quantity × ask */
    equity: string;
    unrealized_pnl: string;
    /** sells by the average-cost method, plus closed shorts */
    realized_pnl: string;
    /** Σ initial margin of the open shorts */
    margin_used: string;
  };
  as_of: string;
}

/**
 * A wallet's holdings and open shorts valued at live prices, with totals. Average cost and realized
 * P&L are the wallet's books (cost-basis.ts), which every fill updates by the average-cost method:
 * a buy adds its notional and fee to the cost; a sell takes out the average cost of what it sold
 * and realizes the rest, net of its fee. Units that came in by deposit carry no cost. Four queries
 * whatever the number of fills: the wallet, its balances, its books, its open shorts.
 * @throws {NotFoundError} (404) when the wallet is not one the viewer may read
 * @throws {PriceUnavailableError} (503) when a price young enough cannot be had
 */
export async function getPortfolio(
  deps: { db: Db; prices: PriceService; quoteAsset: string; maintenanceMarginRate: string },
  viewer: Principal,
  walletId: string,
): Promise<PortfolioView> {
  const wallet = await getWallet(deps.db, viewer, walletId, deps.quoteAsset);
  const [{ books, realizedPnl: realized }, shortRows] = await Promise.all([
    readBooks(deps.db, wallet.id),
    listOpenPositions(deps.db, { walletId: wallet.id }),
  ]);

  const held = wallet.balances
    .filter((b) => b.asset !== deps.quoteAsset)
    .map((b) => ({ asset: b.asset, quantity: new Decimal(b.available).plus(b.locked) }))
    .filter((b) => b.quantity.gt(0));
  const quotes = await quotesOf(
    deps.prices,
    held.map((h) => `${h.asset}${deps.quoteAsset}`),
  );
  const shorts = await positionViews(deps.prices, shortRows, deps.maintenanceMarginRate);

  let unrealized = new Decimal(0);
  let holdingsValue = new Decimal(0);
  const holdings: HoldingView[] = held.map(({ asset, quantity }) => {
    const bid = new Decimal(defined(quotes.get(`${asset}${deps.quoteAsset}`)).bid);
    const book = books.get(asset);
    const averageCost = book?.quantity.gt(0) ? book.cost.div(book.quantity) : undefined;
    const value = bid.times(quantity);
    const pnl = value.minus(quantity.times(averageCost ?? 0));
    holdingsValue = holdingsValue.plus(value);
    unrealized = unrealized.plus(pnl);
    return {
      asset,
      quantity: formatDecimal(quantity),
      average_cost: averageCost ? formatDecimal(roundAmount(averageCost)) : null,
      mark_price: formatDecimal(bid),
      market_value: formatDecimal(roundAmount(value)),
      unrealized_pnl: formatDecimal(roundAmount(pnl)),
    };
  });
  let buyBack = new Decimal(0);
  let marginUsed = new Decimal(0);
  for (const short of shorts) {
    buyBack = buyBack.plus(new Decimal(short.mark_price).times(short.quantity));
    unrealized = unrealized.plus(short.unrealized_pnl);
    marginUsed = marginUsed.plus(short.margin);
  }
  const cashRow = wallet.balances.find((b) => b.asset === deps.quoteAsset);
  const cash = new Decimal(cashRow?.available ?? 0).plus(cashRow?.locked ?? 0);
  return {
    wallet_id: wallet.id,
    quote_asset: deps.quoteAsset,
    holdings,
    shorts,
    totals: {
      cash: formatDecimal(cash),
      equity: formatDecimal(roundAmount(cash.plus(holdingsValue).minus(buyBack))),
      unrealized_pnl: formatDecimal(roundAmount(unrealized)),
      realized_pnl: formatDecimal(roundAmount(realized)),
      margin_used: formatDecimal(marginUsed),
    },
    as_of: new Date(deps.prices.clock.nowMs()).toISOString(),
  };
}

import { eq } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import type { CommandRunner, MoneyCommand } from '../../platform/commands/runner.js';
import type { Db, Tx } from '../../platform/db/client.js';
import { type EventBus, publishAccountEvent } from '../../platform/events/bus.js';
import { runOncePerInterval } from '../../platform/jobs/cluster.js';
import { liquidations } from '../../platform/observability/metrics.js';
import { defined } from '../../shared/assert.js';
import { Decimal } from '../../shared/decimal.js';
import type { Ledger } from '../ledger/index.js';
import { ALL_PRICES_CHANNEL, type PriceService, type Quote } from '../market/index.js';
import { applyFillsToBooks, bookedFillOf } from './cost-basis.js';
import { fillMarketOrder } from './fills.js';
import { insertOrder, listOpenPositionsOf, lockPosition, type OrderRow } from './repository.js';
import { endOpenOrders } from './resting-command.js';
import { closeShort, isBelowMaintenance, type MarginRates } from './shorts.js';
import { orders } from './tables.js';
import { symbolOfTick } from './ticks.js';
import { toOrderView } from './views.js';

/** What the liquidation check runs on. */
export interface LiquidationDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  events: EventBus;
  takerFeeRate: string;
  margin: MarginRates;
  logger: Logger;
  /** where every money movement runs */
  runner: CommandRunner;
}

/** Liquidations one check has in flight at once (they share the command's batches). */
const LIQUIDATION_CONCURRENCY = 256;

/** Current quotes of the symbols, young enough to trade on; a symbol without one is left out. */
async function tradableQuotes(prices: PriceService, symbols: string[]): Promise<Map<string, Quote>> {
  const found = new Map<string, Quote>();
  try {
    const { quotes } = await prices.getQuotes(symbols, 'trade');
    for (const quote of quotes) found.set(quote.symbol, quote);
  } catch {
    // One symbol without a price must not stop the others: ask one by one.
    for (const symbol of symbols) {
      const quote = await prices.getQuote(symbol, 'trade').catch(() => undefined);
      if (quote) found.set(symbol, quote);
    }
  }
  return found;
}

/** A short to liquidate at a quote, if it is still below its maintenance margin under its lock. */
interface LiquidationItem {
  positionId: string;
  quote: Quote;
}

/** A liquidation written: the closing order, and what the insurance account paid of it. */
interface Liquidated {
  order: OrderRow;
  insurancePaid: Decimal;
  /** the position's resting close orders, expired with it */
  expired: OrderRow[];
}

/** Liquidations run in one database transaction at most. */
const LIQUIDATION_BATCH_SIZE_MAX = 64;
/** Liquidations waiting at most per lane (more fail, and are tried again at the next check). */
const LIQUIDATION_QUEUE_LENGTH_MAX = 100_000;
/**
 * Lanes of liquidations, by position: batches of different positions run side by side (they lock
 * no row in common), as the 8 transactions at a time before them did. One lane measured 2.3×
 * slower (`npm run bench`, 1,000 shorts: 3.8 s against 1.7 s): each position is a few round trips
 * in a row, and one batch at a time leaves the other connections idle.
 */
const LIQUIDATION_LANES = 16;

/**
 * The money command of liquidations, `LIQUIDATION_LANES` lanes by position: each short of a batch is locked, checked
 * again at its quote's ask and, if still open and below the maintenance margin, bought back whole
 * at the ask, with a `close_short` order marked `liquidation`. Exactly once, however many checks
 * race for it. Positions are locked in id order, so two batches queue rather than deadlock.
 */
function liquidationCommand(deps: LiquidationDeps): MoneyCommand<LiquidationItem, Liquidated | null> {
  return {
    name: 'liquidation',
    limits: { batchSizeMax: LIQUIDATION_BATCH_SIZE_MAX, queueLengthMax: LIQUIDATION_QUEUE_LENGTH_MAX },
    laneOf: (item) => String(Number.parseInt(item.positionId.slice(0, 8), 16) % LIQUIDATION_LANES),
    async apply(tx, items) {
      const results = new Map<LiquidationItem, Liquidated | null>();
      const ordered = [...items].sort((a, b) => (a.positionId < b.positionId ? -1 : 1));
      for (const item of ordered) results.set(item, await liquidateOne(tx, deps, item));
      // The wallets' books take the batch's closes in two statements, not two per close.
      await applyFillsToBooks(
        tx,
        [...results.values()].flatMap((done) => (done ? [bookedFillOf(done.order)] : [])),
      );
      return items.map((item) => results.get(item) ?? null);
    },
  };
}

async function liquidateOne(
  tx: Tx,
  deps: LiquidationDeps,
  item: LiquidationItem,
): Promise<Liquidated | null> {
  const position = await lockPosition(tx, item.positionId);
  if (position?.status !== 'open') return null;
  if (!isBelowMaintenance(position, new Decimal(item.quote.ask), deps.margin.maintenance)) return null;
  const fill = fillMarketOrder('close_short', new Decimal(position.quantity), item.quote, deps.takerFeeRate);
  const result = await closeShort(tx, deps.ledger, position, fill, true);
  // The position's resting closes have nothing left to buy back: they expire, their reservations go back.
  const expired = await endOpenOrders(tx, deps.ledger, eq(orders.positionId, position.id), 'expired');
  const order = await insertOrder(tx, {
    userId: position.userId,
    walletId: position.walletId,
    clientOrderId: null,
    symbol: position.symbol,
    baseAsset: position.baseAsset,
    quoteAsset: position.quoteAsset,
    side: 'close_short',
    quantity: fill.quantity.toFixed(),
    avgFillPrice: fill.price.toFixed(),
    notional: fill.notional.toFixed(),
    fee: result.fee.toFixed(),
    liquidity: 'taker',
    status: 'filled',
    positionId: position.id,
    realizedPnl: result.realizedPnl.toFixed(),
    liquidation: true,
    journalId: result.journalId,
  });
  return { order, insurancePaid: result.insurancePaid, expired };
}

/** One liquidation command per runner (per process): its lane is shared by every check. */
const liquidationCommands = new WeakMap<CommandRunner, MoneyCommand<LiquidationItem, Liquidated | null>>();

/**
 * Liquidates one short if, under its row lock, it is still open and still below the maintenance
 * margin at `quote`'s ask (see `liquidationCommand`); shorts asked for together share a transaction.
 * @returns true when this call closed it
 */
export async function liquidatePosition(
  deps: LiquidationDeps,
  positionId: string,
  quote: Quote,
): Promise<boolean> {
  let command = liquidationCommands.get(deps.runner);
  if (!command) {
    command = liquidationCommand(deps);
    liquidationCommands.set(deps.runner, command);
  }
  const closed = await deps.runner.submit(command, { positionId, quote });
  if (!closed) return false;
  liquidations.inc({ covered: closed.insurancePaid.gt(0) ? 'insurance' : 'collateral' });
  deps.logger.info(
    { positionId, symbol: quote.symbol, ask: quote.ask, insurancePaid: closed.insurancePaid.toFixed() },
    'short liquidated',
  );
  publishAccountEvent(
    deps.events,
    deps.logger,
    closed.order.userId,
    'position.liquidated',
    toOrderView(closed.order),
  );
  for (const order of closed.expired)
    publishAccountEvent(deps.events, deps.logger, order.userId, 'order.expired', toOrderView(order));
  return true;
}

/**
 * Checks every open short (or those of `symbols`) against the maintenance margin at current asks
 * and liquidates those below it (many at once, batched by the liquidation command).
 * @returns how many were liquidated
 */
export async function liquidateUnderwater(deps: LiquidationDeps, symbols?: string[]): Promise<number> {
  const open = await listOpenPositionsOf(deps.db, symbols);
  if (open.length === 0) return 0;
  const quotes = await tradableQuotes(deps.prices, [...new Set(open.map((p) => p.symbol))]);
  const due = open.flatMap((position) => {
    const quote = quotes.get(position.symbol);
    return quote && isBelowMaintenance(position, new Decimal(quote.ask), deps.margin.maintenance)
      ? [{ position, quote }]
      : [];
  });
  let closed = 0;
  let next = 0;
  const worker = async () => {
    while (next < due.length) {
      const { position, quote } = defined(due[next++]);
      try {
        if (await liquidatePosition(deps, position.id, quote)) closed += 1;
      } catch (err) {
        deps.logger.error({ err, positionId: position.id }, 'liquidation failed; retried at the next check');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(LIQUIDATION_CONCURRENCY, due.length) }, worker));
  return closed;
}

/**
 * Runs the liquidation check every `intervalMs`, once per interval across every instance sharing
 * `cache` (Redis when set), and on each fresh price published by any instance's price service: the
 * shorts of that symbol are checked at once. The tick is only the signal: the price used is the
 * price service's own (the one just fetched, from the cache), never a message's. A position is
 * closed once however many instances react to one tick.
 * @returns a function that stops both
 */
export async function startLiquidationJob(
  deps: LiquidationDeps,
  cache: KeyValueCache,
  intervalMs: number,
): Promise<() => Promise<void>> {
  const stopSchedule = runOncePerInterval(
    cache,
    'liquidation',
    intervalMs,
    async () => {
      await liquidateUnderwater(deps);
    },
    deps.logger,
  );
  const checking = new Map<string, Promise<void>>();
  const unsubscribe = await deps.events.subscribe(ALL_PRICES_CHANNEL, (payload) => {
    const symbol = symbolOfTick(payload);
    if (!symbol || checking.has(symbol)) return;
    const run = liquidateUnderwater(deps, [symbol])
      .then(() => undefined)
      .catch((err: unknown) => deps.logger.error({ err, symbol }, 'liquidation on a price tick failed'))
      .finally(() => checking.delete(symbol));
    checking.set(symbol, run);
  });
  return async () => {
    await unsubscribe();
    await stopSchedule();
    await Promise.all(checking.values());
  };
}

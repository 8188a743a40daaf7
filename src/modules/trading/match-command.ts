import { and, eq, inArray, ne } from 'drizzle-orm';
import type { MoneyCommand } from '../../platform/commands/runner.js';
import type { Tx } from '../../platform/db/client.js';
import { withSavepoint } from '../../platform/db/tx.js';
import { defined } from '../../shared/assert.js';
import { Decimal } from '../../shared/decimal.js';
import { DomainError } from '../../shared/errors.js';
import { available, isRefusal, type Ledger, orderReserve, type Posting, system } from '../ledger/index.js';
import type { Quote } from '../market/index.js';
import { applyFillsToBooks, bookedFillOf } from './cost-basis.js';
import { type Fill, fillAt, fillPostings, fillPrice } from './fills.js';
import { endOrders, type FilledValues, lockOpenOrders, markFilled, markTriggered } from './open-orders.js';
import { crossesBook, hasLimitPrice, triggersAt } from './order-types.js';
import type { OrderRow } from './repository.js';
import { releaseOf } from './resting-command.js';
import { closeShort, type MarginRates, openShort, requireOpenShort } from './shorts.js';
import { orders } from './tables.js';

/** What matching needs besides the orders. */
export interface MatchDeps {
  ledger: Ledger;
  makerFeeRate: string;
  takerFeeRate: string;
  margin: MarginRates;
}

/** An open order to fill or trigger at a quote, if it still may under its row lock. */
export interface MatchItem {
  orderId: string;
  /** the order's wallet: its lane */
  walletId: string;
  quote: Quote;
}

/** What matching did to an order, with the event that announces it. */
export interface Matched {
  event: 'order.filled' | 'order.triggered' | 'order.expired' | 'order.rejected';
  order: OrderRow;
  /** the other legs of its OCO, canceled by it */
  canceled: OrderRow[];
}

/** Matches run in one database transaction at most. */
const MATCH_BATCH_SIZE_MAX = 512;
/**
 * Lanes of matches, by wallet: batches of different wallets run side by side (they lock no account
 * in common), the fills of one wallet one batch at a time.
 */
const MATCH_LANES = 4;
/** Matches waiting at most (the orders one price move crosses, across every symbol). */
const MATCH_QUEUE_LENGTH_MAX = 200_000;

/** A decided fill of a locked order: the price, the liquidity and what it releases. */
interface Decided {
  order: OrderRow;
  fill: Fill;
  liquidity: 'maker' | 'taker';
  triggered: boolean;
  release: Posting[];
}

/**
 * The money command of resting orders' fills (the matcher's, in the worker): each order of a batch
 * is locked (in id order) and decided again at its quote — a limit fills when the book reached its
 * price, at that price with the maker fee; a stop or take-profit triggers at the last price and then
 * fills at the book with the taker fee (a limit type rests at its price instead, unless the book
 * already crosses it). A fill gives the reservation back and spends in the same journal; buys and
 * sells of a batch are written by one ledger batch and one update. Exactly once however many workers
 * match at once: an order filled or canceled while its lock was awaited is no longer open.
 */
export class MatchCommand implements MoneyCommand<MatchItem, Matched | null> {
  readonly name = 'order_match';
  readonly limits = { batchSizeMax: MATCH_BATCH_SIZE_MAX, queueLengthMax: MATCH_QUEUE_LENGTH_MAX };

  constructor(private readonly deps: MatchDeps) {}

  laneOf(item: MatchItem): string {
    return String(Number.parseInt(item.walletId.slice(0, 8), 16) % MATCH_LANES);
  }

  async apply(tx: Tx, items: readonly MatchItem[]): Promise<(Matched | null | DomainError)[]> {
    const quotes = new Map(items.map((item) => [item.orderId, item.quote]));
    const locked = await lockOpenOrders(tx, inArray(orders.id, [...quotes.keys()]));
    const outcomes = new Map<string, Matched>();
    const ended = new Set<string>();
    const spotFills: Decided[] = [];
    const canceledBy = new Map<string, OrderRow[]>();
    for (const order of locked) {
      if (ended.has(order.id)) continue;
      const decided = await this.decide(tx, order, defined(quotes.get(order.id)));
      if (!decided) continue;
      // The other legs of its OCO end with it (a trigger or a fill of one leg cancels the other).
      const siblings = order.orderListId
        ? await lockOpenOrders(tx, and(eq(orders.orderListId, order.orderListId), ne(orders.id, order.id)))
        : [];
      for (const sibling of siblings) ended.add(sibling.id);
      const canceled = await endOrders(
        tx,
        siblings.map((s) => s.id),
        'canceled',
      );
      if ('event' in decided) outcomes.set(order.id, { ...decided, canceled });
      else if (order.side === 'buy' || order.side === 'sell') {
        spotFills.push(decided);
        canceledBy.set(order.id, canceled);
      } else outcomes.set(order.id, { ...(await this.fillShortSide(tx, decided)), canceled });
    }
    for (const matched of await this.fillSpot(tx, spotFills))
      outcomes.set(matched.order.id, { ...matched, canceled: canceledBy.get(matched.order.id) ?? [] });
    const filled = [...outcomes.values()].filter((m) => m.event === 'order.filled').map((m) => m.order);
    await applyFillsToBooks(tx, filled.map(bookedFillOf));
    // An order asked for twice in one batch (the matcher's tick and its interval pass at once) is
    // matched once, and reported once: the later asks see nothing to do, as they would in a later batch.
    const reported = new Set<string>();
    return items.map((item) => {
      if (reported.has(item.orderId)) return null;
      reported.add(item.orderId);
      return outcomes.get(item.orderId) ?? null;
    });
  }

  /**
   * What `quote` does to a locked open order: nothing (undefined), a trigger that leaves it resting
   * at its limit, or a fill at a price.
   */
  private async decide(
    tx: Tx,
    order: OrderRow,
    quote: Quote,
  ): Promise<Decided | Omit<Matched, 'canceled'> | undefined> {
    const { makerFeeRate, takerFeeRate } = this.deps;
    const quantity = new Decimal(order.quantity);
    const limit = order.price === null ? undefined : new Decimal(order.price);
    let triggered = false;
    if (order.stopPrice !== null && order.triggeredAt === null) {
      if (!triggersAt(order.type, order.side, new Decimal(order.stopPrice), new Decimal(quote.last)))
        return undefined;
      triggered = true;
      if (limit && !crossesBook(order.side, limit, quote)) {
        // Binance: a triggered stop-limit with IOC or FOK that cannot fill at once expires.
        if (order.timeInForce === 'ioc' || order.timeInForce === 'fok') {
          return {
            event: 'order.expired',
            order: await this.end(tx, order, await releaseOf(tx, [order]), 'expired'),
          };
        }
        return { event: 'order.triggered', order: await markTriggered(tx, order.id) };
      }
    } else if (!limit || !crossesBook(order.side, limit, quote)) {
      return undefined;
    }
    // A resting limit is the maker at its own price; what fills on a trigger takes the book.
    const maker = !triggered && hasLimitPrice(order.type);
    const fill = maker
      ? fillAt(defined(limit), quantity, makerFeeRate)
      : fillAt(fillPrice(order.side, quote), quantity, takerFeeRate);
    return {
      order,
      fill,
      liquidity: maker ? 'maker' : 'taker',
      triggered,
      release: await releaseOf(tx, [order]),
    };
  }

  /** Buys and sells: one ledger batch (release and fill in one journal each), one update of their rows. */
  private async fillSpot(tx: Tx, decided: Decided[]): Promise<Omit<Matched, 'canceled'>[]> {
    if (decided.length === 0) return [];
    const journals = await this.deps.ledger.postBatch(
      tx,
      decided.map((d) => ({
        kind: 'order_fill',
        postings: spotFillPostings(d),
        metadata: { symbol: d.order.symbol, side: d.order.side, order_id: d.order.id },
      })),
    );
    const values: FilledValues[] = [];
    const refused: Decided[] = [];
    decided.forEach((d, n) => {
      const journal = defined(journals[n]);
      if (isRefusal(journal)) refused.push(d);
      else values.push(filledValues(d, journal.journalId, null, null));
    });
    const results: Omit<Matched, 'canceled'>[] = (await markFilled(tx, values)).map((order) => ({
      event: 'order.filled',
      order,
    }));
    for (const d of refused)
      results.push({ event: 'order.rejected', order: await this.reject(tx, d, 'rejected') });
    return results;
  }

  /** A short or a close_short, in a savepoint: refused, its reservation goes back and it ends. */
  private async fillShortSide(tx: Tx, d: Decided): Promise<Omit<Matched, 'canceled'>> {
    const { ledger, margin } = this.deps;
    const { order, fill } = d;
    try {
      return await withSavepoint(tx, async (sp) => {
        if (d.release.length > 0) await ledger.post(sp, { kind: 'order_release', postings: d.release });
        if (order.side === 'short') {
          const { userId, walletId, symbol, baseAsset, quoteAsset } = order;
          const target = { userId, walletId, symbol, baseAsset, quoteAsset };
          const opened = await openShort(sp, ledger, target, fill, margin);
          const [row] = await markFilled(sp, [filledValues(d, opened.journalId, opened.position.id, null)]);
          return { event: 'order.filled' as const, order: defined(row) };
        }
        const position = await requireOpenShort(sp, order.walletId, order.symbol, fill.quantity);
        const closed = await closeShort(sp, ledger, position, fill, false);
        const [row] = await markFilled(sp, [
          filledValues(d, closed.journalId, position.id, closed.realizedPnl.toFixed()),
        ]);
        return { event: 'order.filled' as const, order: defined(row) };
      });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      // No open short left to close: the order expires; a wallet that cannot pay: rejected.
      const status = error.code === 'NO_OPEN_SHORT' ? 'expired' : 'rejected';
      return {
        event: status === 'expired' ? 'order.expired' : 'order.rejected',
        order: await this.reject(tx, d, status),
      };
    }
  }

  /** Ends an order that could not fill, its reservation given back. */
  private async reject(tx: Tx, d: Decided, status: 'rejected' | 'expired'): Promise<OrderRow> {
    return await this.end(tx, d.order, d.release, status);
  }

  /** Ends an order as `status`, posting the `release` of its reservation first. */
  private async end(
    tx: Tx,
    order: OrderRow,
    release: Posting[],
    status: 'rejected' | 'expired',
  ): Promise<OrderRow> {
    if (release.length > 0) await this.deps.ledger.post(tx, { kind: 'order_release', postings: release });
    return defined((await endOrders(tx, [order.id], status))[0]);
  }
}

/**
 * A resting buy's or sell's fill journal, spent from its reservation where that covers it: a buy's
 * notional and fee go from the order reserve (the rest of it back to the free balance), a sell's base
 * from the reserve; fewer entries than giving it all back first. A buy that costs more than it
 * reserved (a stop filled beyond its bound) gives it back and pays from the free balance.
 */
function spotFillPostings(d: Decided): Posting[] {
  const { order, fill } = d;
  const side = order.side === 'buy' ? 'buy' : 'sell';
  const [release] = d.release;
  const wallet = available(order.walletId);
  const reserve = orderReserve(order.walletId);
  const exchange = system('exchange');
  if (side === 'sell' && release && release.asset === order.baseAsset && release.amount.eq(fill.quantity)) {
    const postings: Posting[] = [
      { source: reserve, destination: exchange, asset: order.baseAsset, amount: fill.quantity },
      { source: exchange, destination: wallet, asset: order.quoteAsset, amount: fill.notional },
    ];
    if (fill.fee.gt(0))
      postings.push({
        source: wallet,
        destination: system('fees'),
        asset: order.quoteAsset,
        amount: fill.fee,
      });
    return postings;
  }
  const cost = fill.notional.plus(fill.fee);
  if (side === 'buy' && release && release.asset === order.quoteAsset && release.amount.gte(cost)) {
    const postings: Posting[] = [
      { source: exchange, destination: wallet, asset: order.baseAsset, amount: fill.quantity },
      { source: reserve, destination: exchange, asset: order.quoteAsset, amount: fill.notional },
    ];
    if (fill.fee.gt(0))
      postings.push({
        source: reserve,
        destination: system('fees'),
        asset: order.quoteAsset,
        amount: fill.fee,
      });
    const rest = release.amount.minus(cost);
    if (rest.gt(0))
      postings.push({ source: reserve, destination: wallet, asset: order.quoteAsset, amount: rest });
    return postings;
  }
  return [...d.release, ...fillPostings(order.walletId, side, order.baseAsset, order.quoteAsset, fill)];
}

function filledValues(
  d: Decided,
  journalId: number,
  positionId: string | null,
  realizedPnl: string | null,
): FilledValues {
  return {
    id: d.order.id,
    avgFillPrice: d.fill.price.toFixed(),
    notional: d.fill.notional.toFixed(),
    fee: d.fill.fee.toFixed(),
    liquidity: d.liquidity,
    journalId,
    positionId,
    realizedPnl,
    triggered: d.triggered,
  };
}

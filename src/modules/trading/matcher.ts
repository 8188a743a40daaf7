import type { Logger } from 'pino';
import type { KeyValueCache } from '../../platform/cache/cache.js';
import type { CommandRunner } from '../../platform/commands/runner.js';
import type { Db } from '../../platform/db/client.js';
import { type EventBus, publishAccountEvent } from '../../platform/events/bus.js';
import { runOncePerInterval } from '../../platform/jobs/cluster.js';
import type { Clock } from '../../shared/clock.js';
import { ALL_PRICES_CHANNEL, type PriceService, type Quote } from '../market/index.js';
import { MatchCommand, type MatchDeps } from './match-command.js';
import { dueOrders, symbolsWithOpenOrders } from './open-orders.js';
import { symbolOfTick } from './ticks.js';
import { toOrderView } from './views.js';

/** What the matcher runs on. */
export interface MatcherDeps extends MatchDeps {
  db: Db;
  prices: PriceService;
  events: EventBus;
  logger: Logger;
  runner: CommandRunner;
  clock: Clock;
}

/** How often every symbol with open orders is matched at least (ms): SPEC C14 "at least every second". */
export const MATCH_INTERVAL_MS = 1000;

/**
 * Matches a symbol's open orders at `quote`: the ones the quote may fill or trigger are handed to
 * the match command, which decides each again under its row lock and fills crossed ones in batches.
 * @returns how many orders filled
 */
export async function matchSymbol(deps: MatcherDeps, command: MatchCommand, quote: Quote): Promise<number> {
  const due = await dueOrders(deps.db, quote);
  let filled = 0;
  await Promise.all(
    due.map(async ({ id: orderId, walletId }) => {
      try {
        const matched = await deps.runner.submit(command, { orderId, walletId, quote });
        if (!matched) return;
        if (matched.event === 'order.filled') filled += 1;
        const publish = (event: Parameters<typeof publishAccountEvent>[3], data: unknown) =>
          publishAccountEvent(deps.events, deps.logger, matched.order.userId, event, data);
        publish(matched.event, toOrderView(matched.order));
        for (const other of matched.canceled) publish('order.canceled', toOrderView(other));
      } catch (err) {
        deps.logger.error({ err, orderId }, 'matching an order failed; tried again at the next price');
      }
    }),
  );
  return filled;
}

/**
 * Matches every symbol that has open orders at its current price (fetched when older than
 * `PRICE_MAX_AGE_MS`, so resting orders keep their symbols' prices fresh, as open streams do).
 * @returns how many orders filled
 */
export async function matchAll(
  deps: MatcherDeps,
  command: MatchCommand,
  symbols?: string[],
): Promise<number> {
  const wanted = symbols ?? (await symbolsWithOpenOrders(deps.db));
  let filled = 0;
  for (const symbol of wanted) {
    const quote = await deps.prices.getQuote(symbol, 'trade').catch((err: unknown) => {
      deps.logger.debug({ err, symbol }, 'no tradable price to match on');
      return undefined;
    });
    if (quote) filled += await matchSymbol(deps, command, quote);
  }
  return filled;
}

/**
 * Runs the matcher of the worker role: on each fresh price published by any instance's price
 * service (the tick is only the signal: the price matched on is the price service's own) and every
 * `MATCH_INTERVAL_MS`, once per interval across the instances sharing `cache`. An order fills once
 * however many workers react to one price (row locks and `status = 'new'` decide).
 * @returns a function that stops it and waits for the matches in progress
 */
export async function startOrderMatcher(
  deps: MatcherDeps,
  cache: KeyValueCache,
): Promise<() => Promise<void>> {
  const command = new MatchCommand(deps);
  const stopSchedule = runOncePerInterval(
    cache,
    'order-matcher',
    MATCH_INTERVAL_MS,
    async () => {
      await matchAll(deps, command);
    },
    deps.logger,
  );
  const matching = new Map<string, Promise<void>>();
  // The symbols with open orders, read at most once per interval: a tick of any other symbol costs nothing.
  let open = { symbols: new Set<string>(), readAtMs: 0 };
  const hasOpenOrders = async (symbol: string) => {
    if (deps.clock.nowMs() - open.readAtMs >= MATCH_INTERVAL_MS) {
      open = { symbols: new Set(await symbolsWithOpenOrders(deps.db)), readAtMs: deps.clock.nowMs() };
    }
    return open.symbols.has(symbol);
  };
  const unsubscribe = await deps.events.subscribe(ALL_PRICES_CHANNEL, (payload) => {
    const symbol = symbolOfTick(payload);
    if (!symbol || matching.has(symbol)) return;
    const run = hasOpenOrders(symbol)
      .then(async (due) => {
        if (due) await matchAll(deps, command, [symbol]);
      })
      .catch((err: unknown) => deps.logger.error({ err, symbol }, 'matching on a price tick failed'))
      .finally(() => matching.delete(symbol));
    matching.set(symbol, run);
  });
  return async () => {
    await unsubscribe();
    await stopSchedule();
    await Promise.all(matching.values());
  };
}

/**
 * A price move that liquidates 1,000 shorts: 1,000 users each short 0.01 BTC at 50,000 (through the
 * trading service, at a price the bench sets), then the ask jumps to 80,000 — beyond every short's
 * maintenance margin — and one liquidation check runs, as the worker's job runs it. Measured: the
 * time from the check's start until every short is closed (the job's interval, 5 s by default,
 * comes on top in production). Checked: all closed, once each. A check line, not a table row.
 */
import { Ledger } from '../../src/modules/ledger/journal.js';
import type { PriceSource } from '../../src/modules/market/quote.js';
import { createPriceService } from '../../src/modules/market/service.js';
import { OrderCommand, RestingOrderCommand } from '../../src/modules/trading/index.js';
import { liquidateUnderwater } from '../../src/modules/trading/liquidation.js';
import { placeOrder } from '../../src/modules/trading/service.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { CommandRunner } from '../../src/platform/commands/runner.js';
import { MemoryEventBus } from '../../src/platform/events/bus.js';
import { systemClock } from '../../src/shared/clock.js';
import { Decimal } from '../../src/shared/decimal.js';
import { queryCount } from '../harness/database.js';
import type { Scenario } from '../harness/scenario.js';
import { createUsers, INITIAL_BALANCE, QUOTE_ASSET } from '../harness/users.js';

/** Shorts opened for the liquidation scenario, one per user, and the price move that sinks them all. */
const LIQUIDATION = {
  shorts: 1_000,
  quantity: '0.01',
  openPrice: '50000',
  gapPrice: '80000',
  concurrency: 16,
} as const;

export const liquidation: Scenario = {
  id: 'liquidation',
  title: `${LIQUIDATION.shorts} shorts liquidated by one check`,
  async run(ctx) {
    const users = await createUsers(ctx, 'liq', LIQUIDATION.shorts, INITIAL_BALANCE);
    let price: string = LIQUIDATION.openPrice;
    const source: PriceSource = {
      name: 'bench',
      fetchQuote: async (symbol) => ({
        symbol,
        last: price,
        bid: price,
        ask: price,
        source: 'bench',
        asOfMs: Date.now(),
      }),
    };
    // No cache: every read sees the price the bench set last.
    const config = { ...ctx.config, priceCacheTtlMs: 0 };
    const prices = createPriceService(config, new MemoryCache(), systemClock, source);
    const margin = { initial: config.shortInitialMarginRate, maintenance: config.shortMaintenanceMarginRate };
    const ledger = new Ledger();
    const trading = {
      db: ctx.db,
      ledger,
      runner: new CommandRunner(ctx.db),
      orders: new OrderCommand({ ledger, quoteAsset: QUOTE_ASSET, margin }),
      prices,
      quoteAsset: QUOTE_ASSET,
      takerFeeRate: config.takerFeeRate,
      makerFeeRate: config.makerFeeRate,
      resting: new RestingOrderCommand(ledger),
      margin,
    };
    console.log(`liquidation: ${users.length} shorts, then one check after a price gap…`);
    let next = 0;
    await Promise.all(
      Array.from({ length: LIQUIDATION.concurrency }, async () => {
        while (next < users.length) {
          const user = users[next++]!;
          await placeOrder(
            trading,
            user.userId,
            {
              walletId: user.walletId,
              symbol: 'BTCUSDT',
              side: 'short',
              quantity: new Decimal(LIQUIDATION.quantity),
              clientOrderId: undefined,
            },
            undefined,
            { render: () => ({ status: 201, body: null }) },
          );
        }
      }),
    );
    price = LIQUIDATION.gapPrice;
    const startMs = performance.now();
    const closed = await liquidateUnderwater({
      ...trading,
      events: new MemoryEventBus(),
      logger: ctx.logger,
    });
    const elapsedMs = performance.now() - startMs;
    const open = await queryCount(
      ctx.db,
      "SELECT count(*)::text AS n FROM positions WHERE status = 'open'",
      [],
    );
    const liquidated = await queryCount(
      ctx.db,
      'SELECT count(*)::text AS n FROM orders WHERE liquidation',
      [],
    );
    ctx.findings.liquidation = { shorts: users.length, closed, elapsedMs };
    return {
      rows: [],
      checks: [
        {
          scenario: 'liquidation',
          name: `${users.length} shorts liquidated by one check`,
          ok: closed === users.length && open === 0 && liquidated === users.length,
          detail: `${closed} closed in ${elapsedMs.toFixed(0)} ms (${((closed / elapsedMs) * 1000).toFixed(0)}/s); ${open} left open; ${liquidated} liquidation orders`,
        },
      ],
    };
  },
};

/**
 * The portfolio's stored books (cost_basis, wallet_pnl) against the replay they replaced: random
 * sequences of buys and sells (alone, with a client order id, or several at once so that one group
 * commit holds more than one fill of the wallet), deposits of the base asset, shorts, closes and
 * liquidations on one wallet at random prices with many digits, through the HTTP API on a real
 * database. After each sequence:
 * - the stored books equal, digit for digit, `replayBooks` over every fill of the wallet — the
 *   average-cost replay `getPortfolio` ran on each request before the books existed, kept here as
 *   the reference;
 * - the portfolio's average_cost, unrealized and realized P&L are what that replay gives.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/modules/ledger/index.js';
import { BinancePriceSource, createPriceService } from '../../src/modules/market/index.js';
import { liquidateUnderwater } from '../../src/modules/trading/liquidation.js';
import { MemoryCache } from '../../src/platform/cache/memory.js';
import { CommandRunner } from '../../src/platform/commands/runner.js';
import { MemoryEventBus } from '../../src/platform/events/bus.js';
import { createLogger } from '../../src/platform/observability/logger.js';
import { systemClock } from '../../src/shared/clock.js';
import { Decimal, formatDecimal, roundAmount } from '../../src/shared/decimal.js';
import { bearer, expectLedgerSound, getWallet, postOrder, registerUser, useTestApp } from '../helpers/app.js';
import { replayBooks, replayedAsStored, storedBooks, walletFills } from '../helpers/cost-basis.js';
import { postOperation } from '../helpers/wallets.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0', INITIAL_BALANCE: '50000' } });

const SYMBOLS = {
  // step 1; bid 0.100000–0.400000 with six decimals
  DOGE: { filters: { minQty: '1', maxQty: '9000000', stepSize: '1', minNotional: '1' }, tick: 1_000_000 },
  // step 0.001; bid 1500.0000–2500.0000 with four decimals
  ETH: { filters: { minQty: '0.001', maxQty: '9000', stepSize: '0.001', minNotional: '1' }, tick: 10_000 },
} as const;
type Asset = keyof typeof SYMBOLS;
const asset = fc.constantFrom<Asset>('DOGE', 'ETH');

type Trade = { side: 'buy' | 'sell'; asset: Asset; fraction: number; clientOrderId: boolean };
type Step =
  | { kind: 'trade'; trade: Trade }
  | { kind: 'burst'; trades: Trade[] }
  | { kind: 'deposit'; asset: Asset; units: number }
  | { kind: 'short'; units: number }
  | { kind: 'close'; fraction: number }
  | { kind: 'liquidate' }
  | { kind: 'price'; asset: Asset; bidTicks: number };

const trade: fc.Arbitrary<Trade> = fc.record({
  side: fc.constantFrom('buy' as const, 'sell' as const),
  asset,
  // of the free cash (buy) or of the units held (sell)
  fraction: fc.double({ min: 0.01, max: 1, noNaN: true }),
  clientOrderId: fc.boolean(),
});
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('trade' as const), trade }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('burst' as const),
      trades: fc.array(trade, { minLength: 2, maxLength: 5 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deposit' as const),
      asset,
      units: fc.integer({ min: 1, max: 500 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('short' as const),
      units: fc.integer({ min: 10, max: 20_000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('close' as const),
      fraction: fc.double({ min: 0.05, max: 1, noNaN: true }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('liquidate' as const) }) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.record({
        kind: fc.constant('price' as const),
        asset: fc.constant<Asset>('DOGE'),
        bidTicks: fc.integer({ min: 100_000, max: 400_000 }),
      }),
      fc.record({
        kind: fc.constant('price' as const),
        asset: fc.constant<Asset>('ETH'),
        bidTicks: fc.integer({ min: 15_000_000, max: 25_000_000 }),
      }),
    ),
  },
);

function setPrice(symbol: Asset, bid: Decimal): void {
  const ask = bid.plus(new Decimal(1).div(SYMBOLS[symbol].tick));
  t.binance!.setQuote(`${symbol}USDT`, { last: bid.toFixed(), bid: bid.toFixed(), ask: ask.toFixed() });
}

function liquidationDeps() {
  const cache = new MemoryCache();
  return {
    db: t.db,
    ledger: new Ledger(),
    runner: new CommandRunner(t.db),
    prices: createPriceService(
      {
        priceCacheTtlMs: 0,
        priceAgeMsMax: 10_000,
        priceStaleMsMax: 60_000,
        quoteAsset: 'USDT',
        upstreamTimeoutMs: 1500,
      },
      cache,
      systemClock,
      new BinancePriceSource({ baseUrl: t.binance!.baseUrl, timeoutMs: 1500, clock: systemClock, cache }),
    ),
    events: new MemoryEventBus(),
    takerFeeRate: '0.001',
    margin: { initial: '0.5', maintenance: '0.3' },
    logger: createLogger('silent'),
  };
}

describe('cost basis: stored books against the replay', () => {
  it('after any sequence of fills the books and the portfolio are what the replay of every fill gives', async () => {
    for (const [symbol, { filters }] of Object.entries(SYMBOLS))
      t.binance!.setFilters(`${symbol}USDT`, filters);
    const prices: Record<Asset, Decimal> = { DOGE: new Decimal('0.25'), ETH: new Decimal('2000') };
    const liquidation = liquidationDeps();
    let filled = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 20 }), async (steps) => {
        prices.DOGE = new Decimal('0.25');
        prices.ETH = new Decimal('2000');
        setPrice('DOGE', prices.DOGE);
        setPrice('ETH', prices.ETH);
        const { token, walletId } = await registerUser(t.app);
        const balances = async () =>
          new Map(
            (await getWallet(t.app, token, walletId)).balances.map((b) => [
              b.asset,
              new Decimal(b.available),
            ]),
          );
        const place = async (order: Trade, held: Map<string, Decimal>) => {
          const step = new Decimal(SYMBOLS[order.asset].filters.stepSize);
          const units =
            order.side === 'buy'
              ? (held.get('USDT') ?? new Decimal(0)).div(prices[order.asset]).times(order.fraction).div(10)
              : (held.get(order.asset) ?? new Decimal(0)).times(order.fraction);
          const quantity = units.div(step).floor().times(step);
          if (quantity.lte(0)) return;
          const res = await postOrder(t.app, token, {
            symbol: order.asset,
            side: order.side,
            quantity: quantity.toFixed(),
            ...(order.clientOrderId ? { client_order_id: randomUUID() } : {}),
          });
          expect([201, 400, 422], res.body).toContain(res.statusCode);
          if (res.statusCode === 201) filled += 1;
        };
        for (const s of steps) {
          if (s.kind === 'price') {
            prices[s.asset] = new Decimal(s.bidTicks).div(SYMBOLS[s.asset].tick);
            setPrice(s.asset, prices[s.asset]);
          } else if (s.kind === 'trade') {
            await place(s.trade, await balances());
          } else if (s.kind === 'burst') {
            const held = await balances();
            await Promise.all(s.trades.map((order) => place({ ...order, clientOrderId: false }, held)));
          } else if (s.kind === 'deposit') {
            const res = await postOperation(t.app, token, walletId, {
              operation_type: 'DEPOSIT',
              asset: s.asset,
              amount: s.asset === 'ETH' ? new Decimal(s.units).div(1000).toFixed() : String(s.units),
            });
            expect(res.statusCode, res.body).toBe(201);
          } else if (s.kind === 'short') {
            const res = await postOrder(t.app, token, {
              symbol: 'DOGE',
              side: 'short',
              quantity: String(s.units),
            });
            expect([201, 400], res.body).toContain(res.statusCode);
          } else if (s.kind === 'close') {
            const res = await t.app.inject({
              method: 'GET',
              url: '/api/v1/positions',
              headers: bearer(token),
            });
            const open = new Decimal(res.json().items[0]?.quantity ?? 0);
            if (open.lte(0)) continue;
            const quantity = Decimal.max(1, open.times(s.fraction).floor());
            const closed = await postOrder(t.app, token, {
              symbol: 'DOGE',
              side: 'close_short',
              quantity: quantity.toFixed(),
            });
            expect([201, 400], closed.body).toContain(closed.statusCode);
          } else {
            // A jump far above any short's liquidation price, the check, and back.
            setPrice('DOGE', prices.DOGE.times(3));
            await liquidateUnderwater(liquidation, ['DOGEUSDT']);
            setPrice('DOGE', prices.DOGE);
          }
        }

        const fills = await walletFills(t.db, walletId);
        expect(await storedBooks(t.db, walletId)).toEqual(replayedAsStored(fills));

        const res = await t.app.inject({
          method: 'GET',
          url: `/api/v1/wallets/${walletId}/portfolio`,
          headers: bearer(token),
        });
        expect(res.statusCode).toBe(200);
        const portfolio = res.json();
        const { books, realized } = replayBooks(fills);
        let unrealized = new Decimal(0);
        const holdings = portfolio.holdings.map(
          (h: { asset: string; quantity: string; mark_price: string }) => {
            const book = books.get(h.asset);
            const averageCost = book?.quantity.gt(0) ? book.cost.div(book.quantity) : undefined;
            const value = new Decimal(h.mark_price).times(h.quantity);
            const pnl = value.minus(new Decimal(h.quantity).times(averageCost ?? 0));
            unrealized = unrealized.plus(pnl);
            return {
              ...h,
              average_cost: averageCost ? formatDecimal(roundAmount(averageCost)) : null,
              market_value: formatDecimal(roundAmount(value)),
              unrealized_pnl: formatDecimal(roundAmount(pnl)),
            };
          },
        );
        for (const short of portfolio.shorts) unrealized = unrealized.plus(short.unrealized_pnl);
        expect(portfolio.holdings).toEqual(holdings);
        expect(portfolio.totals.unrealized_pnl).toBe(formatDecimal(roundAmount(unrealized)));
        expect(portfolio.totals.realized_pnl).toBe(formatDecimal(roundAmount(realized)));
      }),
      { numRuns: 40 },
    );
    // The sequences did trade (a guard against a generator whose orders are all refused).
    expect(filled).toBeGreaterThan(50);
    await expectLedgerSound(t.db);
  });
});

/**
 * Two API instances of one cluster (issue 15 §3, §5), in one test process: one database, one cache and
 * one event bus — Redis with one key prefix when REDIS_URL is set (each instance its own
 * connections, as separate processes have), else shared in-process objects — and one fake Binance.
 * - an order placed on instance A reaches its owner's socket on instance B as `order.filled`;
 * - a price watched on both instances is pushed to the sockets of both, while the fake counts at most
 *   one upstream request for that symbol per refresh interval for the whole cluster.
 * The same is proven with separate OS processes in test/cluster.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { BinancePriceSource } from '../../../src/modules/market/index.js';
import { type EventBus, MemoryEventBus, RedisEventBus } from '../../../src/platform/events/bus.js';
import { postOrder, registerUser, type TestApp, useAppFactory } from '../../helpers/app.js';
import { FakeBinance } from '../../helpers/fake-binance.js';
import { openSharedCaches } from '../../helpers/shared-caches.js';
import { originOf, type StreamMessage, TestSocket } from '../../helpers/stream-client.js';
import { quoteAt } from '../bets/helpers.js';

const factory = useAppFactory();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Buses that two instances share: two Redis connections under one prefix, or one in-process bus. */
function sharedBuses(): EventBus[] {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    const bus = new MemoryEventBus();
    return [bus, bus];
  }
  const prefix = `pbtest:bus:${Math.random().toString(16).slice(2)}:`;
  return [new RedisEventBus(redisUrl, prefix), new RedisEventBus(redisUrl, prefix)];
}

/** Two instances on one fake Binance, one cache and one bus. */
async function twoInstances(
  env: Record<string, string>,
): Promise<{ a: TestApp; b: TestApp; binance: FakeBinance }> {
  const binance = await new FakeBinance().start();
  const caches = openSharedCaches(2);
  const buses = sharedBuses();
  closers.push(async () => {
    await binance.close();
    await caches.close();
    for (const bus of new Set(buses)) await bus.close();
  });
  const instance = (i: number) =>
    factory.build({
      env: { BINANCE_BASE_URL: binance.baseUrl, ...env },
      priceSource: new BinancePriceSource({
        baseUrl: binance.baseUrl,
        timeoutMs: 1500,
        clock: { nowMs: () => Date.now() },
        cache: caches.caches[i]!,
      }),
      shared: { cache: caches.caches[i]!, events: buses[i]! },
    });
  return { a: await instance(0), b: await instance(1), binance };
}

const isTick = (symbol: string, price?: string) => (m: StreamMessage) =>
  m.channel === `prices:${symbol}` && (price === undefined || m.price === price);

describe('two instances', () => {
  it('sends an order filled on A to its owner’s socket on B', async () => {
    const { a, b, binance } = await twoInstances({ PRICE_CACHE_TTL_MS: '0' });
    binance.setQuote('BTCUSDT', quoteAt('50000'));
    const user = await registerUser(a.app);
    const socket = await TestSocket.open(await originOf(b.app), { bearer: user.token });
    await socket.subscribe(['account']);
    const order = await postOrder(a.app, user.token, { symbol: 'BTCUSDT', side: 'buy', quantity: '0.001' });
    expect(order.statusCode).toBe(201);
    const filled = await socket.next((m) => m.event === 'order.filled');
    expect(filled.data).toEqual(order.json());
    socket.close();
  });

  it('pushes a price watched on both to both, with ≤ 1 upstream request per interval for the cluster', async () => {
    const { a, b, binance } = await twoInstances({ PRICE_CACHE_TTL_MS: '1000' });
    binance.setQuote('DUOUSDT', quoteAt('20'));
    const user = await registerUser(a.app);
    const onA = await TestSocket.open(await originOf(a.app), { bearer: user.token });
    const onB = await TestSocket.open(await originOf(b.app), { bearer: user.token });
    await onA.subscribe(['prices:DUO']);
    await onB.subscribe(['prices:DUO']);
    const before = binance.priceRequestsBySymbol.get('DUOUSDT') ?? 0;
    const windowStart = Date.now();
    binance.setQuote('DUOUSDT', quoteAt('21'));
    await onA.next(isTick('DUOUSDT', '21'), 3_000);
    await onB.next(isTick('DUOUSDT', '21'), 3_000);
    await sleep(4_000);
    const intervals = Math.ceil((Date.now() - windowStart) / 1000) + 1;
    const requests = (binance.priceRequestsBySymbol.get('DUOUSDT') ?? 0) - before;
    expect(requests).toBeGreaterThanOrEqual(3);
    expect(requests).toBeLessThanOrEqual(intervals);
    onA.close();
    onB.close();
  }, 20_000);
});

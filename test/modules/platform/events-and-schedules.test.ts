/**
 * The event bus and the once-per-interval schedule, in the mode the environment gives (Redis when
 * REDIS_URL is set, in process otherwise): a message published on one bus reaches a subscriber of
 * another bus on the same prefix (the same bus without Redis), and not after unsubscribing; two
 * schedules on one shared cache run the task once per interval between them, and a failing run does
 * not stop the next.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { KeyValueCache } from '../../../src/platform/cache/cache.js';
import { MemoryCache } from '../../../src/platform/cache/memory.js';
import { RedisCache } from '../../../src/platform/cache/redis.js';
import { type EventBus, MemoryEventBus, RedisEventBus } from '../../../src/platform/events/bus.js';
import { runOncePerInterval } from '../../../src/platform/jobs/cluster.js';
import { createLogger } from '../../../src/platform/observability/logger.js';

const redisUrl = process.env.REDIS_URL;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
const logger = createLogger('silent');

/**
 * Two connections as two processes would have them (Redis, on one new key prefix), or one shared
 * in-process object without Redis; closed after the test.
 */
function twoOf<T extends { close(): Promise<void> }>(
  connect: (redisUrl: string, prefix: string) => T,
  local: () => T,
): [T, T] {
  const prefix = `pbtest:${randomBytes(6).toString('hex')}:`;
  const shared = redisUrl ? undefined : local();
  const pair: [T, T] = shared ? [shared, shared] : [connect(redisUrl!, prefix), connect(redisUrl!, prefix)];
  closers.push(async () => {
    for (const one of new Set(pair)) await one.close();
  });
  return pair;
}

const twoBuses = (): [EventBus, EventBus] =>
  twoOf<EventBus>(
    (url, prefix) => new RedisEventBus(url, prefix),
    () => new MemoryEventBus(),
  );
const twoCaches = (): [KeyValueCache, KeyValueCache] =>
  twoOf<KeyValueCache>(
    (url, prefix) => new RedisCache(url, prefix),
    () => new MemoryCache(),
  );

async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition() && Date.now() < deadline) await sleep(10);
}

describe('event bus', () => {
  it('delivers a published payload to another instance’s subscriber, and stops after unsubscribe', async () => {
    const [publisher, subscriber] = twoBuses();
    const received: unknown[] = [];
    const other: unknown[] = [];
    const unsubscribe = await subscriber.subscribe('prices:BTCUSDT', (payload) => received.push(payload));
    closers.push(await subscriber.subscribe('prices:ETHUSDT', (payload) => other.push(payload)));
    await publisher.publish('prices:BTCUSDT', { symbol: 'BTCUSDT', price: '45000.5' });
    await until(() => received.length === 1);
    expect(received).toEqual([{ symbol: 'BTCUSDT', price: '45000.5' }]);
    expect(other).toEqual([]);

    await unsubscribe();
    await publisher.publish('prices:BTCUSDT', { symbol: 'BTCUSDT', price: '1' });
    await publisher.publish('prices:ETHUSDT', { symbol: 'ETHUSDT', price: '2' });
    await until(() => other.length === 1);
    await sleep(50);
    expect(received).toHaveLength(1);
    expect(other).toEqual([{ symbol: 'ETHUSDT', price: '2' }]);
  });
});

describe('runOncePerInterval', () => {
  it('runs once per interval between two schedules sharing a cache, and goes on after a failed run', async () => {
    const [a, b] = twoCaches();
    const intervalMs = 200;
    const runs: number[] = [];
    const task = async () => {
      runs.push(Math.floor(Date.now() / intervalMs));
      if (runs.length === 2) throw new Error('a failing run');
    };
    const stops = [
      runOncePerInterval(a, 'test-job', intervalMs, task, logger),
      runOncePerInterval(b, 'test-job', intervalMs, task, logger),
    ];
    closers.push(async () => {
      for (const stop of stops) await stop();
    });
    await sleep(2_000);
    for (const stop of stops) await stop();
    // ~10 slots in 2 s: one run each (a timer may miss a slot; none runs twice).
    expect(runs.length).toBeGreaterThanOrEqual(6);
    expect(runs.length).toBeLessThanOrEqual(11);
    expect(new Set(runs).size).toBe(runs.length);
  });
});

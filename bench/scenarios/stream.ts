/**
 * Streams (SPEC §6, issue 15): two instances of the real app on one event bus — Redis pub/sub under
 * this run's prefix when `REDIS_URL` is set, one in-process bus otherwise — and the WebSocket
 * clients in a child process (`bench/stream-clients.ts`). Not timed loads:
 * - fan-out: 1,000 sockets (one per shared user, half on each instance) watch `prices:BTCUSDT`; 20
 *   ticks are published on the bus, 100 ms apart, each carrying its publish instant in `as_of`;
 *   measured: each delivery's latency (receipt − publish). Goal p99 ≤ 50 ms, every tick to every socket.
 * - account events: the same 1,000 users each hold one socket on `account` while the orders load
 *   (the `orders` scenario's request, its connections and duration) runs on instance A; measured:
 *   each `order.filled` delivery's latency (receipt − the order's `created_at`). Goal: as many
 *   events as orders stored, p99 ≤ 100 ms.
 * - memory: the heap of this process (both instances live in it) after a full GC, before and after
 *   10,000 connect/subscribe/close cycles. Goal: flat (≤ 8 MiB more).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { type EventBus, MemoryEventBus, RedisEventBus } from '../../src/platform/events/bus.js';
import { queryCount } from '../harness/database.js';
import type { BenchContext, Scenario, ScenarioOutcome } from '../harness/scenario.js';
import { benchConfig, startApp } from '../harness/servers.js';
import { runTimedLoad } from '../harness/timed-load.js';
import type { LoadResult } from '../load.js';
import type { StreamClientsMessage, StreamClientsTask } from '../stream-clients.js';
import { ORDER_BODY } from './orders.js';

const STREAM = {
  ticks: 20,
  tickGapMs: 100,
  symbol: 'BTCUSDT',
  /** the published ticks' prices start so; the replay's own prices (≈ 46,000) never do */
  pricePrefix: '900000',
  cycles: 10_000,
  cycleConcurrency: 50,
  /** how long deliveries may take to arrive after the last publish or order (ms) */
  drainMs: 1_500,
} as const;
/** SPEC §6 and issue 15. */
const GOAL = { tickP99MsMax: 50, accountP99MsMax: 100, heapGrowthMiBMax: 8 } as const;
const CLIENTS_FILE = fileURLToPath(new URL('../stream-clients.ts', import.meta.url));

/** A child process of WebSocket clients, spoken to by messages. */
interface Clients {
  next(kind: StreamClientsMessage['kind']): Promise<StreamClientsMessage>;
  send(message: unknown): void;
}

function startClients(ctx: BenchContext, task: StreamClientsTask): Clients {
  const child = fork(CLIENTS_FILE, { serialization: 'advanced', stdio: 'inherit' });
  ctx.cleanups.push({ name: 'stop stream clients', run: async () => void child.kill('SIGTERM') });
  const waiting: StreamClientsMessage[] = [];
  const wake: (() => void)[] = [];
  child.on('message', (message: StreamClientsMessage) => {
    waiting.push(message);
    for (const w of wake.splice(0)) w();
  });
  child.on('exit', () => {
    for (const w of wake.splice(0)) w();
  });
  child.send(task);
  return {
    send: (message) => child.send(message as object),
    next: async (kind) => {
      for (;;) {
        const failed = waiting.find((m) => m.kind === 'failed');
        if (failed?.kind === 'failed') throw new Error(`stream clients: ${failed.error}`);
        const found = waiting.find((m) => m.kind === kind);
        if (found) return found;
        if (child.exitCode !== null) throw new Error(`stream clients exited before "${kind}"`);
        await new Promise<void>((resolve) => wake.push(resolve));
      }
    },
  };
}

/** Delivery latencies as a result row's figures: deliveries/s over `windowMs`, p50/p99/max. */
function deliveryResult(latenciesMs: number[], expected: number, windowMs: number): LoadResult {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return {
    requestsPerSec: sorted.length / Math.max(windowMs / 1000, 0.001),
    latencyP50Ms: at(0.5),
    latencyP99Ms: at(0.99),
    latencyMeanMs: sorted.reduce((a, b) => a + b, 0) / Math.max(sorted.length, 1),
    latencyMaxMs: sorted.at(-1) ?? 0,
    sent: expected,
    responses: sorted.length,
    ok2xx: sorted.length,
    non2xx: 0,
    connectionErrors: 0,
    timeouts: 0,
    errors: Math.max(0, expected - sorted.length),
    statusCodes: { delivered: sorted.length },
    durationS: windowMs / 1000,
  };
}

/** Two buses sharing one channel space: Redis under the run's prefix, or one in-process bus. */
function sharedBuses(ctx: BenchContext): EventBus[] {
  if (!ctx.redis) {
    const bus = new MemoryEventBus();
    return [bus, bus];
  }
  const buses = [0, 1].map(() => new RedisEventBus(ctx.redis!.url, `${ctx.redis!.prefix}bus:`));
  for (const bus of buses) ctx.cleanups.push({ name: 'close bus', run: () => bus.close() });
  return buses;
}

async function fanOut(ctx: BenchContext, urls: string[], publisher: EventBus): Promise<ScenarioOutcome> {
  const sockets = ctx.sharedUsers.map((user, i) => ({ url: urls[i % 2]!, token: user.token }));
  const clients = startClients(ctx, {
    kind: 'subscribers',
    sockets,
    channel: `prices:${STREAM.symbol}`,
    match: { pricePrefix: STREAM.pricePrefix },
  });
  await clients.next('ready');
  console.log(`stream fan-out: ${sockets.length} sockets on 2 instances, ${STREAM.ticks} ticks…`);
  const startedAt = Date.now();
  for (let n = 0; n < STREAM.ticks; n++) {
    const price = `${STREAM.pricePrefix}${n}`;
    const tick = { channel: `prices:${STREAM.symbol}`, symbol: STREAM.symbol, price, bid: price, ask: price };
    await publisher.publish(tick.channel, { ...tick, as_of: new Date().toISOString() });
    await new Promise((resolve) => setTimeout(resolve, STREAM.tickGapMs));
  }
  await new Promise((resolve) => setTimeout(resolve, STREAM.drainMs));
  clients.send({ kind: 'report' });
  const report = await clients.next('report');
  if (report.kind !== 'report') throw new Error('unexpected answer');
  const expected = sockets.length * STREAM.ticks;
  const result = deliveryResult(report.latenciesMs, expected, Date.now() - startedAt);
  const everyTick = report.perSocket.every((n) => n === STREAM.ticks);
  const goalMet = everyTick && result.latencyP99Ms <= GOAL.tickP99MsMax;
  return {
    rows: [
      {
        id: 'stream',
        variant: 'fan-out',
        scenario: `price tick to ${sockets.length.toLocaleString('en-US')} WebSocket subscribers, 2 instances (deliveries/s)`,
        result,
        goal: `p99 ≤ ${GOAL.tickP99MsMax} ms: ${goalMet ? 'MET' : 'MISSED'}`,
        goalMet,
      },
    ],
    checks: [
      {
        scenario: 'stream',
        name: 'fan-out: every tick reached every socket, once',
        ok: everyTick && report.closedEarly === 0,
        detail: `${report.latenciesMs.length} of ${expected} deliveries, ${report.closedEarly} sockets closed early`,
      },
    ],
  };
}

async function accountEvents(ctx: BenchContext, urls: string[], ordersUrl: string): Promise<ScenarioOutcome> {
  const sockets = ctx.sharedUsers.map((user, i) => ({ url: urls[i % 2]!, token: user.token }));
  const clients = startClients(ctx, {
    kind: 'subscribers',
    sockets,
    channel: 'account',
    match: { event: 'order.filled' },
  });
  await clients.next('ready');
  const ordersBefore = await queryCount(ctx.db, 'SELECT count(*)::text AS n FROM orders', []);
  const startedAt = Date.now();
  const load = await runTimedLoad(ctx, {
    title: 'stream account events (orders)',
    url: ordersUrl,
    body: ORDER_BODY,
    tokens: ctx.sharedUsers.map((u) => u.token),
  });
  await new Promise((resolve) => setTimeout(resolve, STREAM.drainMs));
  const stored = (await queryCount(ctx.db, 'SELECT count(*)::text AS n FROM orders', [])) - ordersBefore;
  clients.send({ kind: 'report' });
  const report = await clients.next('report');
  if (report.kind !== 'report') throw new Error('unexpected answer');
  const result = deliveryResult(report.latenciesMs, stored, Date.now() - startedAt);
  const noLoss = report.latenciesMs.length === stored;
  const goalMet = noLoss && result.latencyP99Ms <= GOAL.accountP99MsMax;
  return {
    rows: [
      {
        id: 'stream',
        variant: 'account events',
        scenario: `order.filled to ${sockets.length.toLocaleString('en-US')} users' sockets during the orders load (events/s)`,
        result,
        goal: `no loss, p99 ≤ ${GOAL.accountP99MsMax} ms: ${goalMet ? 'MET' : 'MISSED'}`,
        goalMet,
        note: `orders load: ${load.requestsPerSec.toFixed(0)} orders/s, p99 ${load.latencyP99Ms} ms`,
      },
    ],
    checks: [
      {
        scenario: 'stream',
        name: 'account events: one order.filled per order stored, to its owner',
        ok: noLoss && report.closedEarly === 0,
        detail: `${report.latenciesMs.length} events for ${stored} orders stored, ${report.closedEarly} sockets closed early`,
      },
    ],
  };
}

/** The heap after a full collection (MiB). */
function heapAfterGcMiB(): number {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function connectCycles(ctx: BenchContext, url: string): Promise<ScenarioOutcome> {
  const before = heapAfterGcMiB();
  console.log(`stream memory: ${STREAM.cycles} connect/subscribe/close cycles…`);
  const clients = startClients(ctx, {
    kind: 'cycles',
    url,
    tokens: ctx.sharedUsers.map((u) => u.token),
    count: STREAM.cycles,
    concurrency: STREAM.cycleConcurrency,
  });
  const cycled = await clients.next('cycled');
  if (cycled.kind !== 'cycled') throw new Error('unexpected answer');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const after = heapAfterGcMiB();
  const growth = after - before;
  return {
    rows: [],
    checks: [
      {
        scenario: 'stream',
        name: `memory: heap flat over ${STREAM.cycles.toLocaleString('en-US')} connect/disconnect cycles (≤ ${GOAL.heapGrowthMiBMax} MiB)`,
        ok: growth <= GOAL.heapGrowthMiBMax && cycled.failures === 0,
        detail: `heap after GC ${before.toFixed(1)} → ${after.toFixed(1)} MiB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)}); ${cycled.failures} cycles failed`,
      },
    ],
  };
}

export const stream: Scenario = {
  id: 'stream',
  title: 'streams: fan-out, account events, memory',
  usesSharedUsers: true,
  usesRedis: true,
  goal: GOAL,
  settings: { stream: STREAM },
  async run(ctx) {
    const buses = sharedBuses(ctx);
    const config = benchConfig({ STREAM_CONNECTIONS_PER_USER_MAX: '10' });
    const a = await startApp(ctx, { config, events: buses[0]! });
    const b = await startApp(ctx, { config, events: buses[1]! });
    const wsUrls = [a.url, b.url].map((url) => `${url.replace(/^http/, 'ws')}/api/v1/stream`);
    const outcome: ScenarioOutcome = { rows: [], checks: [] };
    for (const part of [
      () => fanOut(ctx, wsUrls, buses[0]!),
      () => accountEvents(ctx, wsUrls, `${a.url}/api/v1/orders`),
      () => connectCycles(ctx, wsUrls[0]!),
    ]) {
      const one = await part();
      outcome.rows.push(...one.rows);
      outcome.checks.push(...one.checks);
    }
    await a.close();
    await b.close();
    return outcome;
  },
};

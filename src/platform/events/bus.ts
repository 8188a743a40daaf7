import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';

/** A message handler; `payload` is the published object, parsed back from JSON. */
export type EventHandler = (payload: unknown) => void;

/**
 * Publish/subscribe by channel name (`prices:BTCUSDT`, `account:<user id>`): in process by default,
 * Redis pub/sub when `REDIS_URL` is set, so every instance sees what any instance publishes.
 * Delivery is at most once and only to subscribers connected at the time (no history).
 */
export interface EventBus {
  /** Sends `payload` (any JSON value) to the channel's current subscribers. */
  publish(channel: string, payload: unknown): Promise<void>;
  /** @returns a function that ends this subscription */
  subscribe(channel: string, handler: EventHandler): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** The bus of one process: subscribers are called on a later tick, never inside `publish`. */
export class MemoryEventBus implements EventBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(channel: string, payload: unknown): Promise<void> {
    // A JSON round trip, so a subscriber gets what it would get through Redis.
    const copy: unknown = JSON.parse(JSON.stringify(payload));
    setImmediate(() => this.emitter.emit(channel, copy));
  }

  async subscribe(channel: string, handler: EventHandler): Promise<() => Promise<void>> {
    this.emitter.on(channel, handler);
    return async () => {
      this.emitter.off(channel, handler);
    };
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
  }
}

/** Redis pub/sub: one connection publishes, a second (opened on the first subscription) listens. */
export class RedisEventBus implements EventBus {
  private readonly publisher: Redis;
  private subscriber: Redis | undefined;
  private readonly local = new MemoryEventBus();
  private readonly counts = new Map<string, number>();

  /** @param channelPrefix prepended to every channel name in Redis, e.g. `pb:` */
  constructor(
    private readonly redisUrl: string,
    private readonly channelPrefix = 'pb:',
  ) {
    this.publisher = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
    this.publisher.on('error', () => undefined);
  }

  async publish(channel: string, payload: unknown): Promise<void> {
    await this.publisher.publish(this.channelPrefix + channel, JSON.stringify(payload));
  }

  async subscribe(channel: string, handler: EventHandler): Promise<() => Promise<void>> {
    const subscriber = this.connectSubscriber();
    // Counted before the await, so two subscriptions racing on one channel both count.
    const count = this.counts.get(channel) ?? 0;
    this.counts.set(channel, count + 1);
    if (count === 0) await subscriber.subscribe(this.channelPrefix + channel);
    const unsubscribeLocal = await this.local.subscribe(channel, handler);
    return async () => {
      await unsubscribeLocal();
      const left = (this.counts.get(channel) ?? 1) - 1;
      this.counts.set(channel, left);
      if (left === 0) {
        this.counts.delete(channel);
        await subscriber.unsubscribe(this.channelPrefix + channel).catch(() => undefined);
      }
    };
  }

  async close(): Promise<void> {
    await this.local.close();
    await this.publisher.quit().catch(() => this.publisher.disconnect());
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  private connectSubscriber(): Redis {
    if (this.subscriber) return this.subscriber;
    const subscriber = new Redis(this.redisUrl, { maxRetriesPerRequest: 2 });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, text: string) => {
      if (!channel.startsWith(this.channelPrefix)) return;
      try {
        void this.local.publish(channel.slice(this.channelPrefix.length), JSON.parse(text));
      } catch {
        // Not JSON: not ours.
      }
    });
    this.subscriber = subscriber;
    return subscriber;
  }
}

/** Redis pub/sub when `redisUrl` is set, the in-process bus otherwise. */
export function createEventBus(redisUrl: string | undefined, channelPrefix = 'pb:'): EventBus {
  return redisUrl ? new RedisEventBus(redisUrl, channelPrefix) : new MemoryEventBus();
}

/** The events a user's `account` stream carries (SPEC §3 "Streams"). */
export type AccountEventName =
  | 'order.accepted'
  | 'order.triggered'
  | 'order.filled'
  | 'order.canceled'
  | 'order.expired'
  | 'order.rejected'
  | 'position.liquidated'
  | 'bet.settled'
  | 'wallet.operation';

/**
 * Publishes one of a user's own events on `account:<user id>`, as
 * `{"channel":"account","event":…,"data":…}` with `data` the resource exactly as its REST route
 * answers it. Called once the change has committed; a bus outage is logged and never fails what
 * happened (delivery is at most once, as every event of the bus).
 */
export function publishAccountEvent(
  events: EventBus,
  logger: { warn(obj: object, msg: string): void },
  userId: string,
  event: AccountEventName,
  data: unknown,
): void {
  events
    .publish(`account:${userId}`, { channel: 'account', event, data })
    .catch((err: unknown) => logger.warn({ err, userId, event }, 'account event not published'));
}

/** `publishAccountEvent` bound to a bus and a logger, for services that publish but keep no bus. */
export type AccountEventSink = (userId: string, event: AccountEventName, data: unknown) => void;

/** An `AccountEventSink` over `events`. */
export function accountEventSink(
  events: EventBus,
  logger: { warn(obj: object, msg: string): void },
): AccountEventSink {
  return (userId, event, data) => publishAccountEvent(events, logger, userId, event, data);
}

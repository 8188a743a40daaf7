import type { Logger } from 'pino';
import type { EventBus } from '../../platform/events/bus.js';
import { symbolOfBusChannel } from './channels.js';

/**
 * One message for every client of a channel: its JSON text, made once, and its UTF-8 bytes, made once
 * when a WebSocket first needs them (a frame from bytes skips the text's encoding per socket).
 */
export class OutgoingMessage {
  private encoded: Buffer | undefined;
  constructor(readonly text: string) {}

  get bytes(): Buffer {
    this.encoded ??= Buffer.from(this.text, 'utf8');
    return this.encoded;
  }
}

/** One open stream (a WebSocket or an SSE response), as the hub sees it. */
export interface StreamClient {
  readonly userId: string;
  /** Sends one message: a tick or an account event, made once for every client. */
  deliver(busChannel: string, message: OutgoingMessage): void;
  /** Ends the stream with a WebSocket close code (1001 going away, 1008 policy) and a reason. */
  end(code: number, reason: string): void;
}

interface ChannelState {
  clients: Set<StreamClient>;
  /** the bus subscription, opened once for the channel however many clients watch it */
  subscription: Promise<() => Promise<void>>;
  /** price, bid and ask of the last tick sent: an unchanged price is not sent again */
  lastPrice: string | undefined;
}

/**
 * The fan-out of one instance: every bus channel some client of this instance watches is subscribed
 * to once (with Redis, each instance subscribes once per channel, whatever its number of sockets), and
 * each message is serialised once and handed to every client of the channel. A price tick whose
 * price, bid and ask did not change since the last one is not sent again.
 */
export class StreamHub {
  private readonly channels = new Map<string, ChannelState>();
  /** every open client of a user, oldest first (for the per-user limit) */
  private readonly byUser = new Map<string, StreamClient[]>();
  private closing = false;

  constructor(
    private readonly events: EventBus,
    private readonly logger: Logger,
    private readonly connectionsPerUserMax: number,
  ) {}

  /** True once `close` has begun: no new stream is accepted. */
  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Registers a new stream of a user. Beyond `connectionsPerUserMax` streams of that user on this
   * instance, the oldest is ended with 1008, so a reloaded page always gets its stream.
   */
  open(client: StreamClient): void {
    const clients = this.byUser.get(client.userId) ?? [];
    clients.push(client);
    this.byUser.set(client.userId, clients);
    while (clients.length > this.connectionsPerUserMax) {
      clients.shift()?.end(1008, `more than ${this.connectionsPerUserMax} streams for one user`);
    }
  }

  /** Forgets a stream that ended, and everything it watched. */
  async drop(client: StreamClient): Promise<void> {
    const clients = this.byUser.get(client.userId);
    if (clients) {
      const at = clients.indexOf(client);
      if (at >= 0) clients.splice(at, 1);
      if (clients.length === 0) this.byUser.delete(client.userId);
    }
    await Promise.all(
      [...this.channels]
        .filter(([, state]) => state.clients.has(client))
        .map(([bus]) => this.leave(bus, client)),
    );
  }

  /** Starts sending the messages of `busChannel` to `client`; resolves once the bus listens. */
  async join(busChannel: string, client: StreamClient): Promise<void> {
    let state = this.channels.get(busChannel);
    if (!state) {
      state = {
        clients: new Set(),
        subscription: this.events.subscribe(busChannel, (payload) => this.fanOut(busChannel, payload)),
        lastPrice: undefined,
      };
      this.channels.set(busChannel, state);
    }
    state.clients.add(client);
    await state.subscription;
  }

  /** Stops sending `busChannel` to `client`; the bus subscription ends with the channel's last client. */
  async leave(busChannel: string, client: StreamClient): Promise<void> {
    const state = this.channels.get(busChannel);
    if (!state?.clients.delete(client) || state.clients.size > 0) return;
    this.channels.delete(busChannel);
    const unsubscribe = await state.subscription.catch(() => undefined);
    await unsubscribe?.().catch((err: unknown) =>
      this.logger.warn({ err, busChannel }, 'unsubscribe failed'),
    );
  }

  /** Symbols some client of this instance watches now. */
  watchedSymbols(): string[] {
    return [...this.channels.keys()].flatMap((bus) => symbolOfBusChannel(bus) ?? []);
  }

  /** Ends every stream (1001: the server is going away) and refuses new ones. */
  close(): void {
    this.closing = true;
    for (const clients of [...this.byUser.values()])
      for (const client of [...clients]) client.end(1001, 'server shutting down');
  }

  private fanOut(busChannel: string, payload: unknown): void {
    const state = this.channels.get(busChannel);
    if (!state) return;
    if (symbolOfBusChannel(busChannel)) {
      const tick = payload as { price?: unknown; bid?: unknown; ask?: unknown };
      const price = `${String(tick.price)}|${String(tick.bid)}|${String(tick.ask)}`;
      if (price === state.lastPrice) return;
      state.lastPrice = price;
    }
    const message = new OutgoingMessage(JSON.stringify(payload));
    for (const client of state.clients) client.deliver(busChannel, message);
  }
}

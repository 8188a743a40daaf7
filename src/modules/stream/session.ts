import type { Principal } from '../../platform/http/auth-guard.js';
import { type PriceService, toPriceTick, UnknownSymbolError } from '../market/index.js';
import {
  CHANNELS_PER_CONNECTION_MAX,
  type ChannelError,
  isChannelError,
  parseChannel,
  type StreamChannel,
} from './channels.js';
import { OutgoingMessage, type StreamClient, type StreamHub } from './hub.js';

/** What every stream is built on: the instance's hub, prices, and the token check. */
export interface StreamDeps {
  hub: StreamHub;
  prices: PriceService;
  /** verifies an access token again (expired, revoked): the auth module's session check */
  verify: (token: string) => Promise<Principal>;
}

/** How a session reaches its client: a WebSocket or an SSE response. */
export interface StreamTransport {
  /** sends one message, with the channel it came on (SSE names it as the event) */
  send(channel: string, message: OutgoingMessage): void;
  /** bytes queued for the client and not yet sent: beyond a bound the client is too slow */
  bufferedBytes(): number;
  /** ends the stream with a WebSocket close code and a reason */
  close(code: number, reason: string): void;
}

/** What a subscribe request came to: the channels now streamed, and those refused. */
export interface SubscribeResult {
  subscribed: string[];
  refused: { channel: unknown; error: ChannelError }[];
  /** each channel subscribed, with its current price (a tick) where it has one, for `confirm` */
  joined: { busChannel: string; snapshot: string | undefined }[];
}

/** Messages of a channel kept while its subscription is being confirmed, at most. */
const UNCONFIRMED_MESSAGES_MAX = 100;

/** Bytes queued for one client at most: a slower one is disconnected (1013) rather than buffered. */
export const CLIENT_BUFFER_BYTES_MAX = 1024 * 1024;

/**
 * One client's stream, whatever carries it: its channels (at most `CHANNELS_PER_CONNECTION_MAX`),
 * what it is sent, and its token, checked again at each ping. A message is not sent to a client whose
 * queue holds more than `CLIENT_BUFFER_BYTES_MAX`: it is disconnected with 1013 instead, so a slow
 * consumer never grows the server's memory.
 */
export class StreamSession implements StreamClient {
  /** client channel name → the channel */
  private readonly channels = new Map<string, StreamChannel>();
  /** bus channel → client channel name (messages are sent under the name the client knows) */
  private readonly names = new Map<string, string>();
  /**
   * bus channel → messages that came before the client was told it is subscribed: sent after that
   * answer, so nothing is lost and nothing comes before it
   */
  private readonly unconfirmed = new Map<string, OutgoingMessage[]>();
  /**
   * The last tick sent on each `prices:` bus channel: the price read for a subscription is published
   * on the bus too, and may arrive after it was sent, so a tick equal to the last one is not sent again.
   */
  private readonly lastTick = new Map<string, string>();
  private ended = false;

  constructor(
    private readonly deps: StreamDeps,
    readonly principal: Principal,
    private readonly token: string,
    private readonly transport: StreamTransport,
  ) {}

  get userId(): string {
    return this.principal.userId;
  }

  /**
   * Subscribes to each channel it can: `prices:<SYMBOL>` once the source knows the symbol (its
   * current price, when there is one, is sent by `confirm`), `account` always. Nothing of a new
   * channel is sent before `confirm`: the caller first answers the request.
   */
  async subscribe(names: readonly unknown[]): Promise<SubscribeResult> {
    const result: SubscribeResult = { subscribed: [], refused: [], joined: [] };
    for (const name of names) {
      const parsed = parseChannel(name, this.userId, (input) => this.deps.prices.normalizeSymbol(input));
      if (isChannelError(parsed)) {
        result.refused.push({ channel: name, error: parsed });
        continue;
      }
      if (!this.channels.has(parsed.name) && this.channels.size >= CHANNELS_PER_CONNECTION_MAX) {
        const message = `at most ${CHANNELS_PER_CONNECTION_MAX} channels per connection`;
        result.refused.push({ channel: name, error: { code: 'CHANNEL_LIMIT', message } });
        continue;
      }
      if (this.channels.has(parsed.name)) {
        if (!result.subscribed.includes(parsed.name)) result.subscribed.push(parsed.name);
        continue;
      }
      // Joined first, so that no message between the current price and the subscription is lost.
      this.unconfirmed.set(parsed.bus, []);
      this.channels.set(parsed.name, parsed);
      this.names.set(parsed.bus, parsed.name);
      await this.deps.hub.join(parsed.bus, this);
      const snapshot = parsed.kind === 'prices' ? await this.currentTick(parsed) : undefined;
      if (snapshot instanceof UnknownSymbolError) {
        await this.forget(parsed);
        result.refused.push({ channel: name, error: { code: 'UNKNOWN_SYMBOL', message: snapshot.message } });
        continue;
      }
      result.subscribed.push(parsed.name);
      result.joined.push({ busChannel: parsed.bus, snapshot });
    }
    return result;
  }

  /**
   * Once the client has been told it is subscribed: sends each new channel's current price, then
   * what came on it meanwhile, and from then on everything as it comes.
   */
  confirm(result: SubscribeResult): void {
    for (const { busChannel, snapshot } of result.joined) {
      const waiting = this.unconfirmed.get(busChannel) ?? [];
      this.unconfirmed.delete(busChannel);
      if (snapshot) this.deliver(busChannel, new OutgoingMessage(snapshot));
      for (const message of waiting) this.deliver(busChannel, message);
    }
  }

  /** Stops the channels named; a channel not subscribed is ignored. */
  async unsubscribe(names: readonly unknown[]): Promise<string[]> {
    const left: string[] = [];
    for (const name of names) {
      if (typeof name !== 'string') continue;
      const parsed = parseChannel(name, this.userId, (input) => this.deps.prices.normalizeSymbol(input));
      const channel = isChannelError(parsed) ? undefined : this.channels.get(parsed.name);
      if (!channel) continue;
      await this.forget(channel);
      left.push(channel.name);
    }
    return left;
  }

  /** Sends a message of `busChannel`, unless the client is too slow: then it is dropped. */
  deliver(busChannel: string, message: OutgoingMessage): void {
    if (this.ended) return;
    const waiting = this.unconfirmed.get(busChannel);
    if (waiting) {
      if (waiting.length >= UNCONFIRMED_MESSAGES_MAX) waiting.shift();
      waiting.push(message);
      return;
    }
    const name = this.names.get(busChannel);
    if (name !== undefined && this.channels.get(name)?.kind === 'prices') {
      if (this.lastTick.get(busChannel) === message.text) return;
      this.lastTick.set(busChannel, message.text);
    }
    if (this.transport.bufferedBytes() > CLIENT_BUFFER_BYTES_MAX) {
      this.end(1013, 'too slow: more than 1 MiB waiting to be sent');
      return;
    }
    this.transport.send(name ?? busChannel, message);
  }

  /**
   * Checks the token again: an expired token or a revoked session (logout, password change) ends the
   * stream with 1008.
   * @returns false when the stream was ended
   */
  async checkToken(): Promise<boolean> {
    try {
      await this.deps.verify(this.token);
      return true;
    } catch {
      this.end(1008, 'the access token has expired or was revoked: log in again');
      return false;
    }
  }

  /** Ends the stream (once) and frees what it watched. */
  end(code: number, reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.transport.close(code, reason);
    void this.deps.hub.drop(this);
  }

  /** Called when the transport closed by itself (the client left). */
  closed(): void {
    if (this.ended) return;
    this.ended = true;
    void this.deps.hub.drop(this);
  }

  private async forget(channel: StreamChannel): Promise<void> {
    this.channels.delete(channel.name);
    this.names.delete(channel.bus);
    this.unconfirmed.delete(channel.bus);
    this.lastTick.delete(channel.bus);
    await this.deps.hub.leave(channel.bus, this);
  }

  /** The channel's current price as a tick, an unknown symbol's error, or nothing (no price now). */
  private async currentTick(
    channel: StreamChannel & { kind: 'prices' },
  ): Promise<string | UnknownSymbolError | undefined> {
    try {
      return JSON.stringify(toPriceTick(await this.deps.prices.getQuote(channel.symbol, 'read')));
    } catch (error) {
      return error instanceof UnknownSymbolError ? error : undefined;
    }
  }
}

import { renewSession } from './api/client';

/** A price change on a `prices:<SYMBOL>` channel (decimal strings, quote asset). */
export interface PriceTick {
  symbol: string;
  price: string;
  bid: string;
  ask: string;
  as_of: string;
}

/** One of the caller's own events on the `account` channel: the resource as its REST route answers it. */
export interface AccountEvent {
  event:
    | 'order.accepted'
    | 'order.triggered'
    | 'order.filled'
    | 'order.canceled'
    | 'order.expired'
    | 'order.rejected'
    | 'position.liquidated'
    | 'bet.settled'
    | 'wallet.operation'
    | string;
  data: Record<string, unknown>;
}

/** Where the stream stands, for the screen: `retryInMs` while waiting to reconnect. */
export interface StreamState {
  status: 'connecting' | 'live' | 'reconnecting';
  retryInMs?: number;
}

const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

type Listener<T> = (value: T) => void;

/**
 * The terminal's one WebSocket to `/api/v1/stream` (authenticated by the session cookie): price
 * channels counted by their watchers, the `account` channel always. A lost connection is retried
 * with exponential backoff and jitter (1 s doubling to 30 s), and every channel is subscribed again.
 */
export class Stream {
  private socket: WebSocket | undefined;
  private readonly watchers = new Map<string, Set<Listener<PriceTick>>>();
  private readonly accountListeners = new Set<Listener<AccountEvent>>();
  private readonly stateListeners = new Set<Listener<StreamState>>();
  private state: StreamState = { status: 'connecting' };
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.socket?.close(1000);
    this.socket = undefined;
  }

  /** Calls `listener` with each state change, and now with the current one; returns the unsubscribe. */
  onState(listener: Listener<StreamState>): () => void {
    this.stateListeners.add(listener);
    listener(this.state);
    return () => this.stateListeners.delete(listener);
  }

  onAccount(listener: Listener<AccountEvent>): () => void {
    this.accountListeners.add(listener);
    return () => this.accountListeners.delete(listener);
  }

  /** Watches `symbol`'s price (its current price arrives at once, then each change); returns the unwatch. */
  watch(symbol: string, listener: Listener<PriceTick>): () => void {
    const channel = `prices:${symbol}`;
    let listeners = this.watchers.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.watchers.set(channel, listeners);
      this.send({ op: 'subscribe', channels: [channel] });
    }
    listeners.add(listener);
    return () => {
      const set = this.watchers.get(channel);
      if (!set) return;
      set.delete(listener);
      if (set.size === 0) {
        this.watchers.delete(channel);
        this.send({ op: 'unsubscribe', channels: [channel] });
      }
    };
  }

  private setState(state: StreamState): void {
    this.state = state;
    for (const listener of this.stateListeners) listener(state);
  }

  private send(message: unknown): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private connect(): void {
    const url = new URL('/api/v1/stream', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.setState({ status: 'live' });
      socket.send(JSON.stringify({ op: 'subscribe', channels: ['account', ...this.watchers.keys()] }));
    };
    socket.onmessage = (message) => this.dispatch(String(message.data));
    socket.onclose = (event) => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      // 1008: the access token expired (or a retry failed, perhaps for the same reason): renew it first.
      if (event.code === 1008 || this.attempt > 0) renewSession().finally(() => this.retry());
      else this.retry();
    };
  }

  private retry(): void {
    if (this.stopped) return;
    const delay = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** this.attempt) * (0.75 + Math.random() / 2);
    this.attempt += 1;
    this.setState({ status: 'reconnecting', retryInMs: delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private dispatch(text: string): void {
    let message: { channel?: string; event?: string; data?: Record<string, unknown> } & Partial<PriceTick>;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.channel === 'account' && message.event && message.data) {
      for (const listener of this.accountListeners) listener({ event: message.event, data: message.data });
      return;
    }
    const listeners = message.channel ? this.watchers.get(message.channel) : undefined;
    if (listeners && message.price) for (const listener of listeners) listener(message as PriceTick);
  }
}

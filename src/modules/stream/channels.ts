/**
 * The channels a stream client may subscribe to (SPEC §3 "Streams"): `prices:<SYMBOL>` (either
 * spelling, `BTC` or `BTCUSDT`, answered in the canonical one) and `account` (the caller's own events).
 * Each maps to one channel of the event bus: `prices:BTCUSDT`, and `account:<user id>`.
 */

/** Channels one connection may hold at most. */
export const CHANNELS_PER_CONNECTION_MAX = 100;
/** Length of a channel name a client may send at most (characters). */
const CHANNEL_NAME_LENGTH_MAX = 64;
const PRICES_PREFIX = 'prices:';

/** A channel a client asked for, understood. */
export type StreamChannel =
  /** `name` is what the client is answered (`prices:BTCUSDT`), `bus` where its ticks are published */
  | { kind: 'prices'; name: string; bus: string; symbol: string }
  | { kind: 'account'; name: 'account'; bus: string };

/** Why a channel name was refused: a code and a sentence, as every error of the API has. */
export interface ChannelError {
  code: 'UNKNOWN_CHANNEL' | 'UNKNOWN_SYMBOL' | 'CHANNEL_LIMIT';
  message: string;
}

/**
 * Reads a channel name a client sent.
 * @param normalizeSymbol the price service's spelling rule (`BTC` → `BTCUSDT`), undefined for junk
 * @returns the channel, or why the name is not one (an unknown symbol is decided later, by the source)
 */
export function parseChannel(
  name: unknown,
  userId: string,
  normalizeSymbol: (input: string) => string | undefined,
): StreamChannel | ChannelError {
  if (typeof name !== 'string' || name.length === 0 || name.length > CHANNEL_NAME_LENGTH_MAX) {
    return {
      code: 'UNKNOWN_CHANNEL',
      message: 'a channel is "account" or "prices:<SYMBOL>", e.g. "prices:BTCUSDT"',
    };
  }
  if (name === 'account') return { kind: 'account', name, bus: `account:${userId}` };
  if (name.startsWith(PRICES_PREFIX)) {
    const symbol = normalizeSymbol(name.slice(PRICES_PREFIX.length));
    if (!symbol)
      return { code: 'UNKNOWN_SYMBOL', message: 'a symbol is 2–20 letters or digits, e.g. BTCUSDT or BTC' };
    return { kind: 'prices', name: `${PRICES_PREFIX}${symbol}`, bus: `${PRICES_PREFIX}${symbol}`, symbol };
  }
  return { code: 'UNKNOWN_CHANNEL', message: `no channel "${name}": use "account" or "prices:<SYMBOL>"` };
}

/** True for what `parseChannel` refused. */
export function isChannelError(parsed: StreamChannel | ChannelError): parsed is ChannelError {
  return 'code' in parsed;
}

/** The symbol a bus channel streams prices of, or undefined for another channel. */
export function symbolOfBusChannel(bus: string): string | undefined {
  return bus.startsWith(PRICES_PREFIX) ? bus.slice(PRICES_PREFIX.length) : undefined;
}

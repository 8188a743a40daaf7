import type { PriceTick } from '../market/index.js';

/** The symbol a published price tick is about, or undefined when the payload is not a tick. */
export function symbolOfTick(payload: unknown): string | undefined {
  const symbol = (payload as Partial<PriceTick> | null)?.symbol;
  return typeof symbol === 'string' && /^[A-Z0-9]{2,30}$/.test(symbol) ? symbol : undefined;
}

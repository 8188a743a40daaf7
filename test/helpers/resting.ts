import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { bearer, postOrder } from './app.js';
import type { FakeBinance } from './fake-binance.js';

/** An order as the order routes answer it (the fields the tests read). */
export interface OrderBody {
  id: string;
  status: string;
  type: string;
  side: string;
  price: string | null;
  stop_price: string | null;
  avg_fill_price: string | null;
  fee: string | null;
  notional: string | null;
  filled_quantity: string;
  fills: { price: string; quantity: string; fee: string; liquidity: string }[];
  order_list_id: string | null;
  replaced_by: string | null;
  triggered_at: string | null;
  position_id: string | null;
}

/** A quote as the fake Binance serves it. */
export interface TestQuote {
  last: string;
  bid: string;
  ask: string;
}

/**
 * Moves the fake upstream's price and reads it once through the API, so that the price service
 * fetches and publishes it (the matcher reacts to the tick at once; its 1 s pass would anyway).
 */
export async function movePrice(
  app: FastifyInstance,
  binance: FakeBinance,
  symbol: string,
  quote: TestQuote,
): Promise<void> {
  binance.setQuote(symbol, quote);
  const res = await app.inject({ method: 'GET', url: `/api/v1/market/prices/${symbol}` });
  expect(res.statusCode).toBe(200);
}

/** `GET /api/v1/orders/{id}` as `token`'s user. */
export async function getOrderBody(app: FastifyInstance, token: string, id: string): Promise<OrderBody> {
  const res = await app.inject({ method: 'GET', url: `/api/v1/orders/${id}`, headers: bearer(token) });
  expect(res.statusCode).toBe(200);
  return res.json();
}

/** Polls an order until `done` says so (the matcher runs in the background), at most `ms`. */
export async function waitForOrder(
  app: FastifyInstance,
  token: string,
  id: string,
  done: (order: OrderBody) => boolean,
  ms = 5000,
): Promise<OrderBody> {
  const deadline = Date.now() + ms;
  let order = await getOrderBody(app, token, id);
  while (!done(order) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    order = await getOrderBody(app, token, id);
  }
  return order;
}

/** Places an order that must be accepted (201), and answers its body. */
export async function placeOk(
  app: FastifyInstance,
  token: string,
  payload: Record<string, unknown>,
): Promise<OrderBody> {
  const res = await postOrder(app, token, payload);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

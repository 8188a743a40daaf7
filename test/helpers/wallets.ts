import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { HistoryView } from '../../src/modules/wallets/service.js';
import { bearer } from './app.js';

/** One journal of `GET /api/v1/wallets/{id}/transactions`, as the route answers it. */
export type HistoryItem = HistoryView;

/** A wallet as `GET /api/v1/wallets/{id}` answers it. */
export interface WalletBody {
  id: string;
  name: string;
  is_default: boolean;
  balance: string;
  balances: { asset: string; available: string; locked: string }[];
  created_at: string;
}

/** The 201 body of `POST /api/v1/wallets/{id}/operation`. */
export interface OperationBody {
  id: number;
  wallet_id: string;
  operation_type: 'DEPOSIT' | 'WITHDRAW';
  asset: string;
  amount: string;
  created_at: string;
}

/**
 * `POST /api/v1/wallets/{walletId}/operation` as `token`'s user. An object payload is sent as JSON;
 * a string is sent as it is (with `content-type: application/json` unless `headers` says otherwise).
 */
export function postOperation(
  app: FastifyInstance,
  token: string,
  walletId: string,
  payload: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url: `/api/v1/wallets/${walletId}/operation`,
    headers: { ...bearer(token), 'content-type': 'application/json', ...headers },
    payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
}

/** `POST /api/v1/wallets` `{name}` as `token`'s user; expects 201 and returns the new wallet. */
export async function createWallet(app: FastifyInstance, token: string, name = 'Test'): Promise<WalletBody> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/wallets',
    headers: bearer(token),
    payload: { name },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** `GET /api/v1/wallets/{walletId}/transactions` one page (`query` is the raw query string). */
export function getHistoryPage(
  app: FastifyInstance,
  token: string,
  walletId: string,
  query = '',
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'GET',
    url: `/api/v1/wallets/${walletId}/transactions${query ? `?${query}` : ''}`,
    headers: bearer(token),
  });
}

/** The wallet's whole history, newest first, walked page by page with the cursor. */
export async function readHistory(
  app: FastifyInstance,
  token: string,
  walletId: string,
  limit = 100,
): Promise<HistoryItem[]> {
  const items: HistoryItem[] = [];
  let cursor: string | null = null;
  // A bound on the walk: a cursor that never ends would otherwise hang the test.
  for (let page = 0; page < 10_000; page++) {
    const query: string = `limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const res = await getHistoryPage(app, token, walletId, query);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ items: HistoryItem[]; next_cursor: string | null }>();
    items.push(...body.items);
    cursor = body.next_cursor;
    if (!cursor) return items;
  }
  throw new Error('history pagination did not end');
}

/** Everything a caller can see of one wallet: to compare before and after a refused request. */
export async function walletSnapshot(
  app: FastifyInstance,
  token: string,
  walletId: string,
): Promise<{ wallet: WalletBody; wallets: WalletBody[]; history: HistoryItem[] }> {
  const wallet = await app.inject({
    method: 'GET',
    url: `/api/v1/wallets/${walletId}`,
    headers: bearer(token),
  });
  expect(wallet.statusCode, wallet.body).toBe(200);
  const wallets = await app.inject({ method: 'GET', url: '/api/v1/wallets', headers: bearer(token) });
  expect(wallets.statusCode, wallets.body).toBe(200);
  return {
    wallet: wallet.json(),
    wallets: wallets.json<{ items: WalletBody[] }>().items,
    history: await readHistory(app, token, walletId),
  };
}

/**
 * Asserts the product's one error shape: `{"error": {"code", "message", "details"}}` and nothing else.
 * @param status the status, or the statuses any of which is right
 */
export function expectV1Error(
  res: { statusCode: number; body: string },
  status: number | number[],
  code?: string,
): void {
  if (Array.isArray(status)) expect(status, res.body).toContain(res.statusCode);
  else expect(res.statusCode, res.body).toBe(status);
  const body = JSON.parse(res.body) as { error: Record<string, unknown> };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
  expect(typeof body.error.code).toBe('string');
  expect(typeof body.error.message).toBe('string');
  expect(typeof body.error.details).toBe('object');
  expect(body.error.details).not.toBeNull();
  if (code) expect(body.error.code).toBe(code);
}

/** The wallet's own entry of a journal (one asset's account in the `available` bucket). */
export function walletEntry(item: HistoryItem, walletId: string): HistoryItem['entries'][number] {
  const entries = item.entries.filter((e) => e.wallet_id === walletId);
  expect(entries, `journal ${item.id}`).toHaveLength(1);
  return entries[0]!;
}

/**
 * Runs `work` on every item with at most `concurrency` in flight at once; results in item order.
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]!, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

/** A small seeded PRNG (mulberry32), so a "random" burst is the same on every run. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

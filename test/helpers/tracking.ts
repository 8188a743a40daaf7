import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import { bearer, buildTestApp, registerUser, type TestApp, type TestAppOptions } from './app.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { FakeCoinGecko } from './fake-coingecko.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** A tracking test file's app, database, fake CoinGecko and a registered user's token. */
export interface TrackingTestContext {
  readonly built: TestApp;
  readonly database: TestDatabase;
  readonly coingecko: FakeCoinGecko;
  readonly token: string;
  /** A request as the registered user; a payload that is a string is sent as it is (JSON content type). */
  call(method: Method, url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  /** The same request with another bearer token. */
  callAs(token: string, method: Method, url: string, payload?: unknown): Promise<LightMyRequestResponse>;
}

/**
 * For the tracking test files: before the file's tests, a fresh database, a fake CoinGecko (which
 * also lists `dogecoin`), the app built by `options(coingecko)` with `COINGECKO_BASE_URL` pointing at
 * it, and a user registered through the API; everything closed after the file.
 */
export function useTrackingApp(options: (coingecko: FakeCoinGecko) => TestAppOptions): TrackingTestContext {
  let database: TestDatabase | undefined;
  let coingecko: FakeCoinGecko | undefined;
  let built: TestApp | undefined;
  let token: string | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    coingecko = await new FakeCoinGecko().start();
    coingecko.addCoin({ id: 'dogecoin', symbol: 'doge', name: 'Dogecoin' });
    const chosen = options(coingecko);
    built = await buildTestApp(database.db, {
      ...chosen,
      env: { COINGECKO_BASE_URL: coingecko.baseUrl, ...chosen.env },
    });
    token = (await registerUser(built.app)).token;
  });
  afterAll(async () => {
    await built?.close();
    await coingecko?.close();
    await database?.drop();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useTrackingApp: available only inside the file’s tests');
    return value;
  };
  return {
    get built() {
      return ready(built);
    },
    get database() {
      return ready(database);
    },
    get coingecko() {
      return ready(coingecko);
    },
    get token() {
      return ready(token);
    },
    call: (method, url, payload) => callAs(ready(token), method, url, payload),
    callAs,
  };
  function callAs(as: string, method: Method, url: string, payload?: unknown) {
    return ready(built).app.inject({
      method,
      url,
      headers: {
        ...bearer(as),
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(payload === undefined
        ? {}
        : { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) }),
    });
  }
}

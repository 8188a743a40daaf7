/**
 * Requests to a server that runs as its own process (helpers/server-process.ts), over real loopback
 * HTTP: what the crash and cluster tests use where `app.inject()` cannot reach.
 */

/** What a server answered: the status, the body as text, and the body parsed as JSON ({} when it is not). */
export interface CallAnswer {
  status: number;
  body: string;
  json: Record<string, unknown>;
}

/** Budget of one request (ms): a request to a dead server fails at once; this bounds a hung one. */
const CALL_TIMEOUT_MS_DEFAULT = 10_000;

/**
 * Sends one request to `target` (a base URL, or anything with a `baseUrl`, e.g. a `ServerProcess`).
 * @param options `token` as a bearer header, `body` sent as JSON, extra `headers`, `timeoutMs`
 * @throws {Error} when the connection fails or the answer does not come within `timeoutMs`
 */
export async function call(
  target: string | { baseUrl: string },
  method: string,
  url: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CallAnswer> {
  const { token, body, headers = {}, timeoutMs = CALL_TIMEOUT_MS_DEFAULT } = options;
  const res = await fetch(`${typeof target === 'string' ? target : target.baseUrl}${url}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // not JSON (a 204, an HTML page): the text is in `body`
  }
  return { status: res.status, body: text, json };
}

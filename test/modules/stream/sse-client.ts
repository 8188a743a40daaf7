/** One Server-Sent Event as a client reads it: its name and its data, parsed as JSON. */
export interface SseEvent {
  event: string;
  data: unknown;
}

/** An open SSE response (`fetch`, as a browser's EventSource reads it), its events and comments kept. */
export interface SseStream {
  status: number;
  events: SseEvent[];
  /** comment lines (`: heartbeat`) received */
  comments: string[];
  /** waits for the first event that `match` accepts */
  next(match: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  /** resolves when the server ends the response */
  ended: Promise<void>;
  close(): void;
}

/** Opens `GET /api/v1/stream/sse?channels=` of `origin` with a bearer token (or headers of the caller). */
export async function openSse(
  origin: string,
  channels: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<SseStream> {
  const abort = new AbortController();
  const res = await fetch(`${origin}/api/v1/stream/sse?channels=${encodeURIComponent(channels)}`, {
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    signal: abort.signal,
  });
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const ended = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let at = buffer.indexOf('\n\n');
        while (at >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          at = buffer.indexOf('\n\n');
          if (block.startsWith(':')) {
            comments.push(block);
            continue;
          }
          const name = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
          const data = /^data: (.*)$/m.exec(block)?.[1] ?? 'null';
          events.push({ event: name, data: JSON.parse(data) });
        }
      }
    } catch {
      // aborted by the test
    }
  })();
  let finished = false;
  void ended.then(() => {
    finished = true;
  });
  return {
    status: res.status,
    events,
    comments,
    ended,
    close: () => abort.abort(),
    next: async (match, timeoutMs = 5_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.find(match);
        if (found) return found;
        if (finished)
          throw new Error(`the stream ended before the event came; got ${JSON.stringify(events)}`);
        if (Date.now() > deadline)
          throw new Error(`no such event within ${timeoutMs} ms; got ${JSON.stringify(events)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

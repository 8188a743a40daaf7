/**
 * The WebSocket clients of the `stream` scenario, in a child process of their own (forked by
 * `bench/scenarios/stream.ts`), so that 1,000 sockets do not share the event loop of the servers
 * they measure. The parent sends one task; the child answers `ready` once every socket is subscribed,
 * then, on `report`, what each socket received: the delivery latency of every message counted
 * (receipt − the instant the message says it was made, both read from this machine's clock).
 * Every socket connects to 127.0.0.1 only.
 */
import WebSocket from 'ws';

/** A task of the parent. */
export type StreamClientsTask =
  | {
      kind: 'subscribers';
      /** one entry per socket: the instance it connects to (`ws://127.0.0.1:…/api/v1/stream`) and its token */
      sockets: { url: string; token: string }[];
      channel: string;
      /** counts only messages whose `price` starts so (`prices:` channels), or whose `event` is it (`account`) */
      match: { pricePrefix: string } | { event: string };
    }
  | {
      kind: 'cycles';
      url: string;
      /** used in turn, so that no user holds more streams than the per-user limit */
      tokens: string[];
      count: number;
      concurrency: number;
    };

/** What the child answers. */
export type StreamClientsMessage =
  | { kind: 'ready'; sockets: number }
  | { kind: 'report'; latenciesMs: number[]; perSocket: number[]; closedEarly: number }
  | { kind: 'cycled'; count: number; failures: number }
  | { kind: 'failed'; error: string };

function send(message: StreamClientsMessage): void {
  process.send?.(message);
}

/** Opens one socket and subscribes it; resolves once the server confirmed the subscription. */
function openSubscribed(url: string, token: string, channel: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // The server's frames are trusted here: skipping the client's UTF-8 check keeps 1,000 sockets'
    // own cost out of the latencies measured.
    const socket = new WebSocket(`${url}?token=${encodeURIComponent(token)}`, { skipUTF8Validation: true });
    const timer = setTimeout(() => reject(new Error('no subscription within 30 s')), 30_000);
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ op: 'subscribe', channels: [channel] })));
    socket.on('message', function onMessage(data) {
      const message = JSON.parse(String(data)) as { op?: string };
      if (message.op === 'subscribed') {
        clearTimeout(timer);
        socket.off('message', onMessage);
        resolve(socket);
      } else if (message.op === 'error') reject(new Error(`refused: ${String(data)}`));
    });
  });
}

/** Runs `work` on `items`, `concurrency` at a time. */
async function eachLimited<T>(items: T[], concurrency: number, work: (item: T, i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
}

/**
 * The instant a counted message says it was made: a tick's `as_of`, an account event's
 * `data.created_at`; undefined for a message not counted. Read with patterns, not a JSON parse per
 * message, so that the clients' own work weighs as little as possible in what is measured.
 */
function madeAtOf(text: string, match: { pricePrefix: string } | { event: string }): string | undefined {
  if ('pricePrefix' in match) {
    if (!text.includes(`"price":"${match.pricePrefix}`)) return undefined;
    return /"as_of":"([^"]+)"/.exec(text)?.[1];
  }
  if (!text.includes(`"event":"${match.event}"`)) return undefined;
  return /"created_at":"([^"]+)"/.exec(text)?.[1];
}

/** The subscribers: every socket open and subscribed, then counting what it receives until `report`. */
async function subscribers(task: Extract<StreamClientsTask, { kind: 'subscribers' }>): Promise<void> {
  const sockets: WebSocket[] = new Array(task.sockets.length);
  await eachLimited(task.sockets, 50, async ({ url, token }, i) => {
    sockets[i] = await openSubscribed(url, token, task.channel);
  });
  const latenciesMs: number[] = [];
  const perSocket = sockets.map(() => 0);
  let closedEarly = 0;
  sockets.forEach((socket, i) => {
    socket.on('message', (data) => {
      const receivedMs = Date.now();
      const madeAt = madeAtOf(String(data), task.match);
      if (madeAt === undefined) return;
      latenciesMs.push(receivedMs - Date.parse(madeAt));
      perSocket[i]! += 1;
    });
    socket.on('close', () => {
      closedEarly += 1;
    });
  });
  send({ kind: 'ready', sockets: sockets.length });
  await new Promise<void>((resolve) => {
    process.on('message', (message: { kind?: string }) => {
      if (message.kind === 'report') resolve();
    });
  });
  send({ kind: 'report', latenciesMs, perSocket, closedEarly });
  for (const socket of sockets) socket.terminate();
}

/** Opens, subscribes and closes sockets `count` times, `concurrency` at a time. */
async function cycles(task: Extract<StreamClientsTask, { kind: 'cycles' }>): Promise<void> {
  let failures = 0;
  await eachLimited(
    Array.from({ length: task.count }, (_, i) => i),
    task.concurrency,
    async (i) => {
      try {
        const socket = await openSubscribed(task.url, task.tokens[i % task.tokens.length]!, 'account');
        await new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.close();
        });
      } catch {
        failures += 1;
      }
    },
  );
  send({ kind: 'cycled', count: task.count, failures });
}

process.once('message', (task: StreamClientsTask) => {
  const run = task.kind === 'subscribers' ? subscribers(task) : cycles(task);
  run.then(
    () => process.disconnect?.(),
    (error: unknown) => {
      send({ kind: 'failed', error: error instanceof Error ? error.message : String(error) });
      process.disconnect?.();
    },
  );
});

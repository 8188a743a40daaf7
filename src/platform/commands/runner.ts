import { assert } from '../../shared/assert.js';
import { DomainError } from '../../shared/errors.js';
import type { Db, Tx } from '../db/client.js';
import { withTransaction } from '../db/tx.js';
import { type ErrorRenderer, renderV1Error } from '../http/error-handler.js';
import {
  claimIdempotencyKeys,
  type FinalResponse,
  findStoredAnswer,
  type IdempotencyScope,
  isFinalError,
  recordIdempotentResponses,
  renderFinalError,
} from './idempotency.js';
import { type LaneLimits, Lanes, type Settled } from './lanes.js';

/**
 * A kind of money movement (a deposit, an order fill, a bet, a settlement): the part that runs in
 * the database transaction. What it needs from outside (prices, lookups) is prepared before, by
 * its service, with no lock held.
 */
export interface MoneyCommand<I, R> {
  /** e.g. `wallet_operation`, `order_fill` */
  readonly name: string;
  readonly limits: LaneLimits;
  /** the group-commit lane of an item: items of one lane run together, one batch at a time */
  laneOf(item: I): string;
  /**
   * Applies `items` in `tx`, deciding each in order as if they ran one after another.
   * @returns one result per item, in order: its value, or the `DomainError` that refused it — a
   *   refused item leaves no write behind (decide before writing, or write in a savepoint)
   * @throws only for what no item decides (a bug, a lost connection): the runner then re-runs each
   *   item alone when the transaction surely rolled back, and never when its COMMIT's outcome is unknown
   */
  apply(tx: Tx, items: readonly I[]): Promise<(R | DomainError)[]>;
}

/** How a request's result and its final errors go on the wire (stored as such for replays). */
export interface Rendering<R> {
  render: (result: R) => { status: number; body: unknown };
  /** the body shape of a final client error (v1's unless a seed contract has its own) */
  renderError?: ErrorRenderer;
}

/** A client's money request: its key and how its answer goes on the wire. */
export interface CommandRequest<R> extends Rendering<R> {
  scope: IdempotencyScope | undefined;
}

/** The answer to send, and the result when this call committed it now. */
export interface Answered<R> {
  response: FinalResponse;
  /** set only when the movement committed now: not for a replayed answer or a stored refusal */
  result?: R;
}

interface Entry<I, R> {
  item: I;
  scope?: IdempotencyScope | undefined;
  rendering?: Rendering<R> | undefined;
}

/**
 * The one way money moves: every balance change of the product is a `MoneyCommand` run here. A
 * service prepares an item (outside any transaction: pricing, lookups) and hands it over; the
 * runner owns, for every command alike:
 * - the bounded group commit per lane (`Lanes`): many items, one transaction, one commit;
 * - the idempotency claim and the stored answer, written in the transaction that moved the money,
 *   so a key's answer exists exactly when its movement committed;
 * - contention retries with jitter (`withTransaction`) and the 503 when a lane's queue is full;
 * - the rule for a COMMIT of unknown outcome (the connection lost while committing): never re-run
 *   an item; answer 503 with `Retry-After`, and the client's retry with the same `Idempotency-Key`
 *   finds the truth — which is why every money POST should carry one.
 */
export class CommandRunner {
  /** Each command's lanes, keyed by the command object (one per process, made at start-up). */
  private readonly lanes = new Map<object, { close(): Promise<void> }>();

  /**
   * @param options.failpoint crash tests only: `before-commit:<command name>[:<n>]` hangs that
   *   command's first batch of at least n items (default 1) once its work is done and before COMMIT,
   *   `after-commit:…` once committed and before any answer; `onFailpoint` is told first, with the
   *   batch's size (the test waits for it, then kills the process)
   */
  constructor(
    private readonly db: Db,
    private readonly options: {
      failpoint?: string | undefined;
      onFailpoint?: (at: string, batchSize: number) => void;
    } = {},
  ) {}

  /**
   * The stored answer of a request's key, looked up before its service prepares anything, so that a
   * retry gets its first answer whatever the price or the wallet says now. Read only: the claim in
   * the batch's transaction still decides when there is no record yet.
   * @throws {IdempotencyKeyReusedError} (409) the key's stored request differs from this one
   */
  async storedAnswer(scope: IdempotencyScope | undefined): Promise<FinalResponse | undefined> {
    return await findStoredAnswer(this.db, scope);
  }

  /**
   * Runs a client's prepared item in the next batch of its command's lane, once per idempotency key.
   * @returns the answer (the rendered result, a replayed answer, or — with a key — a stored final
   *   client error) and the result when it committed now
   * @throws a refusal (`DomainError`) when the request has no key; {IdempotencyInProgressError},
   *   {IdempotencyKeyReusedError} (409); {TransactionContentionError}, {CommitOutcomeUnknownError} (503)
   */
  async execute<I, R>(
    command: MoneyCommand<I, R>,
    item: I,
    request: CommandRequest<R>,
  ): Promise<Answered<R>> {
    const answered = await this.enqueue(command, { item, scope: request.scope, rendering: request });
    assert(answered.response, 'a rendered request has a response');
    return answered as Answered<R>;
  }

  /**
   * Runs one item of the product's own (a settlement, a liquidation) in the next batch of its lane.
   * @returns its result
   * @throws the `DomainError` that refused it; {TransactionContentionError}, {CommitOutcomeUnknownError} (503)
   */
  async submit<I, R>(command: MoneyCommand<I, R>, item: I): Promise<R> {
    const { result } = await this.enqueue(command, { item });
    return result as R;
  }

  /** Waits until every batch queued or running now has settled (before the database closes). */
  async close(): Promise<void> {
    await Promise.all([...this.lanes.values()].map((lanes) => lanes.close()));
  }

  private enqueue<I, R>(command: MoneyCommand<I, R>, entry: Entry<I, R>): Promise<Partial<Answered<R>>> {
    return this.lanesOf(command).submit(`${command.name}:${command.laneOf(entry.item)}`, entry);
  }

  /** The lanes of `command`, made on its first item. */
  private lanesOf<I, R>(command: MoneyCommand<I, R>): Lanes<Entry<I, R>, Partial<Answered<R>>> {
    const known = this.lanes.get(command);
    // The map is keyed by the command that made each value, so the value has that command's types.
    if (known) return known as Lanes<Entry<I, R>, Partial<Answered<R>>>;
    const made = new Lanes<Entry<I, R>, Partial<Answered<R>>>(
      (entries) => this.runBatch(command, entries),
      command.limits,
    );
    this.lanes.set(command, made);
    return made;
  }

  /** One batch in one transaction: claims, the command, the answers and their records. */
  private async runBatch<I, R>(
    command: MoneyCommand<I, R>,
    entries: Entry<I, R>[],
  ): Promise<Settled<Partial<Answered<R>>>[]> {
    const settled = await withTransaction(this.db, async (tx) => {
      const outcomes = await claimAll(tx, entries);
      const toRun = entries.flatMap((entry, i) => (outcomes[i] ? [] : [{ i, entry }]));
      const results =
        toRun.length > 0
          ? await command.apply(
              tx,
              toRun.map(({ entry }) => entry.item),
            )
          : [];
      assert(results.length === toRun.length, `${command.name}: one result per item`);
      const records: { scope: IdempotencyScope; status: number; body: string }[] = [];
      toRun.forEach(({ i, entry }, n) => {
        const outcome = answerOf(entry, results[n] as R | DomainError);
        if (outcome.ok && outcome.value.response && entry.scope)
          records.push({ scope: entry.scope, ...outcome.value.response });
        outcomes[i] = outcome;
      });
      await recordIdempotentResponses(tx, records);
      await this.failpoint(`before-commit:${command.name}`, entries.length);
      return outcomes.map(
        (o): Settled<Partial<Answered<R>>> =>
          o ?? { ok: false, error: new Error('batch item left undecided') },
      );
    });
    await this.failpoint(`after-commit:${command.name}`, entries.length);
    return settled;
  }

  /** Hangs here for ever when the failpoint `at` is armed for a batch this big (the process is to be killed). */
  private async failpoint(at: string, batchSize: number): Promise<void> {
    const [point, command, minSize] = (this.options.failpoint ?? '').split(':');
    if (`${point}:${command}` !== at || batchSize < Number(minSize ?? 1)) return;
    this.options.onFailpoint?.(at, batchSize);
    await new Promise<never>(() => undefined);
  }
}

/** Claims the keys of a batch: replayed answers and 409s are decided here, the rest left to run. */
async function claimAll<I, R>(
  tx: Tx,
  entries: Entry<I, R>[],
): Promise<(Settled<Partial<Answered<R>>> | undefined)[]> {
  const outcomes: (Settled<Partial<Answered<R>>> | undefined)[] = entries.map(() => undefined);
  const keyed = entries.flatMap((entry, i) => (entry.scope ? [{ i, scope: entry.scope }] : []));
  const claims = await claimIdempotencyKeys(
    tx,
    keyed.map((k) => k.scope),
  );
  keyed.forEach(({ i }, n) => {
    const claim = claims[n];
    if (claim instanceof Error) outcomes[i] = { ok: false, error: claim };
    else if (claim) outcomes[i] = { ok: true, value: { response: claim } };
  });
  return outcomes;
}

/** What one item that ran comes to: its rendered answer, a stored refusal, or the error its caller gets. */
function answerOf<I, R>(entry: Entry<I, R>, result: R | DomainError): Settled<Partial<Answered<R>>> {
  const { rendering } = entry;
  if (result instanceof DomainError) {
    // A final client error is the answer of a key (a retry must not succeed later); without a key
    // the caller's error handler answers it.
    if (!entry.scope || !rendering || !isFinalError(result)) return { ok: false, error: result };
    const response = renderFinalError(result, rendering.renderError ?? renderV1Error);
    return { ok: true, value: { response: { ...response, replayed: false } } };
  }
  if (!rendering) return { ok: true, value: { result } };
  const { status, body } = rendering.render(result);
  return { ok: true, value: { result, response: { status, body: JSON.stringify(body), replayed: false } } };
}

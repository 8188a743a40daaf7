import type { Logger } from 'pino';
import type { CommandRunner, MoneyCommand } from '../../platform/commands/runner.js';
import type { Db } from '../../platform/db/client.js';
import { CommitOutcomeUnknownError, TransactionContentionError } from '../../platform/db/tx.js';
import { type EventBus, publishAccountEvent } from '../../platform/events/bus.js';
import { betSettlementRefusals } from '../../platform/observability/metrics.js';
import { assert, defined } from '../../shared/assert.js';
import type { Clock } from '../../shared/clock.js';
import { Decimal, roundAmount } from '../../shared/decimal.js';
import { DomainError } from '../../shared/errors.js';
import { available, betEscrow, isRefusal, type Ledger, type Posting, system } from '../ledger/index.js';
import type { PriceService } from '../market/index.js';
import { type BetOutcome, betOutcome } from './payout.js';
import {
  type BetRow,
  completeBets,
  findBetsByIds,
  findDuePendingBets,
  lockPendingBets,
  recordSettlementErrors,
  type SettledFields,
} from './repository.js';
import { type BetView, toBetView } from './views.js';

/** A bet priced more than this after its due time is marked `late` and priced at its due time (ms). */
export const LATE_GRACE_MS = 1_000;

/** True for a bet priced at `nowMs` more than `LATE_GRACE_MS` after its due time. */
function isLate(bet: BetRow, nowMs: number): boolean {
  return nowMs - bet.dueAt.getTime() > LATE_GRACE_MS;
}

/** What settling a bet needs: the worker's job context has all of it. */
export interface SettleDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  clock: Clock;
  events: EventBus;
  logger: Logger;
  /** where every money movement runs */
  runner: CommandRunner;
}

/** What settling one bet came to. */
export type SettleOutcome =
  /** settled now by this call */
  | { kind: 'settled'; bet: BetView }
  /** nothing to do: no such bet, or already completed (by this call's twin, a job or the sweeper) */
  | { kind: 'done' }
  /** not due yet: try again at `dueAtMs` */
  | { kind: 'not-due'; dueAtMs: number }
  /** no price could be had, or the database was too busy: the bet is untouched, still pending; retry later */
  | { kind: 'failed'; error: unknown }
  /**
   * this bet's settlement cannot be written (its payout beyond the largest balance, a database error):
   * it stays pending with `settlement_error` = `reason`, and the sweeper tries it again; the others
   * of its batch were settled
   */
  | { kind: 'refused'; reason: string };

/**
 * The ledger postings of a settlement, in the quote asset. The stake leaves escrow: a win returns it
 * to available with the profit paid by the house; a loss goes from escrow to the house and the rest
 * of the stake back to available (a loss never touches the available balance); a draw returns it.
 */
export function settlementPostings(
  walletId: string,
  asset: string,
  stake: Decimal,
  outcome: BetOutcome,
): Posting[] {
  const escrow = betEscrow(walletId);
  const wallet = available(walletId);
  const house = system('house');
  const postings: Posting[] = [];
  const loss = outcome.profit.lt(0) ? outcome.profit.neg() : new Decimal(0);
  if (outcome.profit.gt(0))
    postings.push({ source: house, destination: wallet, asset, amount: outcome.profit });
  if (loss.gt(0)) postings.push({ source: escrow, destination: house, asset, amount: loss });
  const returned = stake.minus(loss);
  if (returned.gt(0)) postings.push({ source: escrow, destination: wallet, asset, amount: returned });
  return postings;
}

/** The price a bet ends at: quote asset, and the instant it was the market's last price (ms). */
interface EndPrice {
  price: Decimal;
  atMs: number;
}

/** One bet ready to settle: its row, and what it pays at its end price. */
interface Settling {
  bet: BetRow;
  end: EndPrice;
  outcome: BetOutcome;
  /** priced more than `LATE_GRACE_MS` after its due time (so at its due time's price where it could) */
  late: boolean;
}

/** A bet whose settlement could not be written, and why. */
interface Refused {
  bet: BetRow;
  error: unknown;
}

/**
 * The end price of each due bet, by bet id. A bet settled within `LATE_GRACE_MS` of its due time
 * ends at the current price (a quote no older than `PRICE_MAX_AGE_MS`); a later one at the market's
 * price at its due time, where the source has history (a recovery must not price an outage's bets
 * at the price after it) — else, and only then, at the current price too. One current quote and one
 * history request per symbol, asked before any database transaction opens.
 */
async function endPricesOf(
  prices: PriceService,
  due: BetRow[],
  nowMs: number,
): Promise<Map<string, EndPrice | { error: unknown }>> {
  const bySymbol = new Map<string, BetRow[]>();
  for (const bet of due) bySymbol.set(bet.symbol, [...(bySymbol.get(bet.symbol) ?? []), bet]);
  const ends = new Map<string, EndPrice | { error: unknown }>();
  await Promise.all(
    [...bySymbol].map(async ([symbol, bets]) => {
      const late = new Set(bets.filter((bet) => isLate(bet, nowMs)));
      const history = await prices.getPricesAt(
        symbol,
        [...late].map((bet) => bet.dueAt.getTime()),
      );
      const atDue = (bet: BetRow) => (late.has(bet) ? history.get(bet.dueAt.getTime()) : undefined);
      const current = bets.some((bet) => !atDue(bet))
        ? await prices.getQuote(symbol, 'trade').then(
            (quote): EndPrice => ({ price: new Decimal(quote.last), atMs: quote.asOfMs }),
            (error: unknown) => ({ error }),
          )
        : undefined;
      for (const bet of bets) {
        const then = atDue(bet);
        const end = then ? { price: roundAmount(new Decimal(then.price)), atMs: then.atMs } : current;
        assert(end, 'a bet without a price at its due time has the current one');
        ends.set(bet.id, end);
      }
    }),
  );
  return ends;
}

/**
 * Settles bets, each exactly once however many callers (its job, a timer, the sweeper, another
 * worker) run it at the same time: the rows of the bets still pending are locked (in id order) and
 * moved to completed by `UPDATE … WHERE status = 'pending'` in the one database transaction that
 * releases their escrow and books their payouts (one journal per bet, written as a batch). The end
 * price is chosen by `endPricesOf` (the due time's price for a late bet, then marked `late`). A bet
 * whose settlement cannot be written is refused alone: it stays pending with `settlement_error`, an
 * operator metric and a log line name it, and the others of the batch are settled. Each settlement
 * is published on its owner's `account:<user id>` channel as `bet.settled`.
 * @returns one outcome per id, in order; a bet whose symbol has no fresh price is `failed` and left
 *   untouched, pending (never settled on a stale price)
 */
export async function settleBets(deps: SettleDeps, betIds: readonly string[]): Promise<SettleOutcome[]> {
  const outcomes = new Map<string, SettleOutcome>();
  const nowMs = deps.clock.nowMs();
  const due: BetRow[] = [];
  for (const bet of await findBetsByIds(deps.db, betIds)) {
    if (bet.status !== 'pending') continue;
    if (nowMs < bet.dueAt.getTime()) outcomes.set(bet.id, { kind: 'not-due', dueAtMs: bet.dueAt.getTime() });
    else due.push(bet);
  }
  const ends = await endPricesOf(deps.prices, due, nowMs);
  const settling: Settling[] = [];
  for (const bet of due) {
    const end = defined(ends.get(bet.id));
    if (!('price' in end)) {
      outcomes.set(bet.id, { kind: 'failed', error: end.error });
      continue;
    }
    const stake = new Decimal(bet.stake);
    const outcome = betOutcome(bet.direction, stake, bet.leverage, new Decimal(bet.startPrice), end.price);
    settling.push({ bet, end, outcome, late: isLate(bet, nowMs) });
  }
  const written = await writeSettlements(deps, settling);
  await recordRefusals(deps, written.refused);
  for (const { bet, error } of written.refused)
    outcomes.set(bet.id, { kind: 'refused', reason: settlementErrorText(error) });
  for (const { bet, error } of written.failed) outcomes.set(bet.id, { kind: 'failed', error });
  for (const bet of written.settled) {
    const view = toBetView(bet);
    outcomes.set(bet.id, { kind: 'settled', bet: view });
    publishAccountEvent(deps.events, deps.logger, bet.userId, 'bet.settled', view);
  }
  return betIds.map((id) => outcomes.get(id) ?? { kind: 'done' });
}

/** Bets settled in one database transaction at most. */
const SETTLE_BATCH_SIZE_MAX = 200;
/** Settlements waiting at most before new ones fail (and are retried by their job or the sweeper). */
const SETTLE_QUEUE_LENGTH_MAX = 100_000;
/**
 * How long a settlement waits for others to share its transaction (ms): bets due in the same
 * instant (their timers or jobs fire one by one) then cost tens of transactions, not 1,000.
 */
const SETTLE_WINDOW_MS = 10;

/** A settlement written now, or null: the bet was no longer pending (settled by another caller). */
type Written = (BetRow & SettledFields) | null;

/**
 * The money command of bet settlements, one lane for all, with a short window: the rows of the bets
 * still pending are locked (in id order) and moved to completed by `UPDATE … WHERE status =
 * 'pending'` in the one transaction that releases their escrow and books their payouts (one journal
 * per bet, written as a batch). A settlement the ledger refuses (a payout beyond the largest
 * balance) is that item's refusal; the others are written.
 */
function settlementCommand(ledger: Ledger, clock: Clock): MoneyCommand<Settling, Written> {
  return {
    name: 'bet_settlement',
    limits: {
      batchSizeMax: SETTLE_BATCH_SIZE_MAX,
      queueLengthMax: SETTLE_QUEUE_LENGTH_MAX,
      windowMs: SETTLE_WINDOW_MS,
    },
    laneOf: () => 'settlements',
    async apply(tx, items) {
      const pending = await lockPendingBets(
        tx,
        items.map((s) => s.bet.id),
      );
      // A bet twice in one batch (its job and the sweeper) is settled by its first item.
      const seen = new Set<string>();
      const toWrite = items.filter((s) => {
        const first = pending.has(s.bet.id) && !seen.has(s.bet.id);
        seen.add(s.bet.id);
        return first;
      });
      const journals =
        toWrite.length === 0
          ? []
          : await ledger.postBatch(
              tx,
              toWrite.map(({ bet, outcome }) => ({
                kind: 'bet_settlement',
                postings: settlementPostings(bet.walletId, bet.quoteAsset, new Decimal(bet.stake), outcome),
                metadata: { bet_id: bet.id, result: outcome.result },
              })),
            );
      const settledAt = new Date(clock.nowMs());
      const results = new Map<Settling, (BetRow & SettledFields) | DomainError>();
      toWrite.forEach((settling, i) => {
        const journal = defined(journals[i]);
        if (isRefusal(journal)) {
          results.set(settling, journal);
          return;
        }
        const { bet, end, outcome, late } = settling;
        const fields = {
          endPrice: end.price.toFixed(),
          endPriceAt: new Date(end.atMs),
          result: outcome.result,
          profit: outcome.profit.toFixed(),
          settledAt,
          // Decided with the instant the price was chosen at, so `late` and the price always agree.
          late,
          settleJournalId: journal.journalId,
        };
        results.set(settling, { ...bet, ...fields, settlementError: null, status: 'completed' as const });
      });
      const settled = [...results.values()].filter(
        (r): r is BetRow & SettledFields => !(r instanceof DomainError),
      );
      const moved = await completeBets(tx, settled);
      assert(moved === settled.length, 'every bet locked while pending is completed once');
      return items.map((settling) => results.get(settling) ?? null);
    },
  };
}

/** One settlement command per runner (per process): its lane is shared by every caller. */
const settlementCommands = new WeakMap<CommandRunner, MoneyCommand<Settling, Written>>();

function settlementCommandOf(deps: SettleDeps): MoneyCommand<Settling, Written> {
  let command = settlementCommands.get(deps.runner);
  if (!command) {
    command = settlementCommand(deps.ledger, deps.clock);
    settlementCommands.set(deps.runner, command);
  }
  return command;
}

/** What writing the settlements came to, item by item. */
interface WriteOutcomes {
  settled: (BetRow & SettledFields)[];
  /** recorded on the bet (`settlement_error`): tried again by the sweeper */
  refused: Refused[];
  /** nothing recorded (the database too busy, or a commit of unknown outcome): the caller retries */
  failed: Refused[];
}

/**
 * Writes the settlements through the runner (they share batches with every settlement asked for at
 * about the same time). Contention and a commit of unknown outcome leave a bet pending, untouched,
 * for its caller to retry; any other failure (a refusal, a constraint only this bet breaks, once
 * the runner ran it alone) is recorded on the bet.
 */
async function writeSettlements(deps: SettleDeps, settling: Settling[]): Promise<WriteOutcomes> {
  const command = settlementCommandOf(deps);
  const outcomes = await Promise.allSettled(settling.map((s) => deps.runner.submit(command, s)));
  const written: WriteOutcomes = { settled: [], refused: [], failed: [] };
  outcomes.forEach((outcome, i) => {
    const { bet } = defined(settling[i]);
    if (outcome.status === 'fulfilled') {
      if (outcome.value) written.settled.push(outcome.value);
      return;
    }
    const error: unknown = outcome.reason;
    const retryable =
      error instanceof TransactionContentionError || error instanceof CommitOutcomeUnknownError;
    (retryable ? written.failed : written.refused).push({ bet, error });
  });
  return written;
}

/** The text kept on a refused bet: a domain error's own message; nothing internal of another error. */
function settlementErrorText(error: unknown): string {
  return error instanceof DomainError
    ? error.message
    : 'the settlement could not be written (see the server log)';
}

/**
 * Records each refused settlement on its bet (`settlement_error`), in its own transaction; the metric
 * and the log line name a bet once per reason, not at every retry.
 */
async function recordRefusals(deps: SettleDeps, refused: Refused[]): Promise<void> {
  if (refused.length === 0) return;
  const texts = refused.map(({ bet, error }) => ({ betId: bet.id, reason: settlementErrorText(error) }));
  const recorded = await recordSettlementErrors(deps.db, texts).catch((err: unknown) => {
    deps.logger.error({ err }, 'refused bet settlements could not be recorded');
    return new Set<string>();
  });
  for (const { bet, error } of refused) {
    if (!recorded.has(bet.id)) continue;
    const reason = error instanceof DomainError ? error.code : 'INTERNAL_ERROR';
    betSettlementRefusals.inc({ reason });
    deps.logger.error(
      { err: error, betId: bet.id, userId: bet.userId, reason },
      `bet settlement refused, the bet stays pending: ${settlementErrorText(error)}`,
    );
  }
}

/**
 * `settleBets` for one bet.
 * @throws {PriceUnavailableError} (or the price service's other errors) when no fresh price can be
 *   had: the bet stays pending, untouched, for the caller to retry
 */
export async function settleBet(deps: SettleDeps, betId: string): Promise<SettleOutcome> {
  const [outcome] = await settleBets(deps, [betId]);
  assert(outcome, 'one bet has one outcome');
  if (outcome.kind === 'failed') throw outcome.error;
  return outcome;
}

/** Most overdue bets one sweep looks at. */
const SWEEP_BATCH_MAX = 1_000;
/** Bets settled per database transaction by the sweeper. */
const SWEEP_CHUNK = 100;
/** Chunks one sweep settles at a time (the database pool is shared with the rest of the process). */
const SWEEP_CONCURRENCY = 2;
/** Distinct reasons a sweep's log line names at most. */
const SWEEP_REASONS_LOGGED_MAX = 5;

/** What one sweep came to. */
export interface SweepResult {
  settled: number;
  /** left untouched: no fresh price, or the database too busy */
  failed: number;
  /** left pending with `settlement_error` */
  refused: number;
}

/**
 * Settles every pending bet whose due time has passed (bets whose job or timer was lost: a restart,
 * an outage, a Redis failure), up to `SWEEP_BATCH_MAX` per call — bets refused before come last, so
 * they never hold back the others — `SWEEP_CHUNK` per transaction. A bet whose price cannot be had
 * stays pending for the next sweep; the log line says why.
 */
export async function sweepDueBets(deps: SettleDeps): Promise<SweepResult> {
  const due = await findDuePendingBets(deps.db, new Date(deps.clock.nowMs()), SWEEP_BATCH_MAX);
  const chunks: string[][] = [];
  for (let i = 0; i < due.length; i += SWEEP_CHUNK) chunks.push(due.slice(i, i + SWEEP_CHUNK));
  const result: SweepResult = { settled: 0, failed: 0, refused: 0 };
  const reasons = new Set<string>();
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const chunk = defined(chunks[next++]);
      try {
        for (const outcome of await settleBets(deps, chunk)) {
          if (outcome.kind === 'settled') result.settled++;
          if (outcome.kind === 'refused') result.refused++;
          if (outcome.kind === 'failed') {
            result.failed++;
            reasons.add(outcome.error instanceof Error ? outcome.error.message : String(outcome.error));
          }
        }
      } catch (err) {
        result.failed += chunk.length;
        reasons.add(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, chunks.length) }, lane));
  if (result.failed > 0) {
    deps.logger.warn(
      { failed: result.failed, reasons: [...reasons].slice(0, SWEEP_REASONS_LOGGED_MAX) },
      'overdue bets left pending, tried again at the next sweep',
    );
  }
  return result;
}

import type { Logger } from 'pino';
import type { Config } from '../../platform/config/env.js';
import type { Db } from '../../platform/db/client.js';
import { withTransaction } from '../../platform/db/tx.js';
import type { EventBus } from '../../platform/events/bus.js';
import { mayRead } from '../../platform/http/access.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import {
  type FinalResponse,
  findStoredAnswer,
  type IdempotencyScope,
  runIdempotent,
} from '../../platform/http/idempotency.js';
import { assert } from '../../shared/assert.js';
import type { Clock } from '../../shared/clock.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { Decimal, formatDecimal } from '../../shared/decimal.js';
import { NotFoundError, ValidationError } from '../../shared/errors.js';
import { available, isRefusal, type Ledger, locked, type Posting, system } from '../ledger/index.js';
import type { PriceService } from '../market/index.js';
import { requireWallet } from '../wallets/index.js';
import { BetLimitError } from './errors.js';
import { type BetDirection, type BetOutcome, type BetResult, betOutcome } from './payout.js';
import {
  type BetRow,
  completeBets,
  findBetById,
  findBetsByIds,
  findDuePendingBets,
  insertBet,
  listUserBets,
  lockPendingBets,
} from './repository.js';
import type { SettlementScheduler } from './scheduler.js';

/** A bet settled more than this after its due time is marked `late` (ms). */
export const LATE_GRACE_MS = 1_000;

/** The configured limits of a bet (SPEC C8): leverage 1–max, stake ≥ min, duration min–max. */
export interface BetLimits {
  leverageMax: number;
  /** quote asset */
  stakeMin: Decimal;
  durationMsMin: number;
  durationMsMax: number;
}

/** The limits from the configuration (BET_LEVERAGE_MAX, BET_STAKE_MIN, BET_DURATION_MIN_S/MAX_S). */
export function betLimitsOf(
  config: Pick<Config, 'betLeverageMax' | 'betStakeMin' | 'betDurationMinS' | 'betDurationMaxS'>,
): BetLimits {
  return {
    leverageMax: config.betLeverageMax,
    stakeMin: new Decimal(config.betStakeMin),
    durationMsMin: config.betDurationMinS * 1000,
    durationMsMax: config.betDurationMaxS * 1000,
  };
}

/** What placing a bet needs. */
export interface PlaceBetDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  clock: Clock;
  quoteAsset: string;
  limits: BetLimits;
  scheduler: SettlementScheduler;
  logger: Logger;
}

/** A bet request, as both the v1 route and seed 002's route hand it over. */
export interface PlaceBetInput {
  /** undefined → the caller's default wallet */
  walletId: string | undefined;
  /** `BTCUSDT` or `BTC` */
  symbol: string;
  direction: BetDirection;
  /** quote asset, > 0, at most 8 decimals */
  stake: Decimal;
  /** an integer multiple */
  leverage: number;
  durationMs: number;
}

/** A bet as the v1 routes answer it; amounts and prices are decimal strings (quote asset). */
export interface BetView {
  id: string;
  wallet_id: string;
  symbol: string;
  direction: BetDirection;
  stake: string;
  leverage: number;
  duration_seconds: number;
  start_price: string;
  due_at: string;
  status: 'pending' | 'completed';
  end_price: string | null;
  result: BetResult | null;
  profit: string | null;
  /** stake + profit, credited back at settlement */
  payout: string | null;
  settled_at: string | null;
  late: boolean;
  created_at: string;
}

/** A bet as the v1 bet routes answer it: amounts and prices as decimal strings, times ISO 8601. */
export function toBetView(bet: BetRow): BetView {
  return {
    id: bet.id,
    wallet_id: bet.walletId,
    symbol: bet.symbol,
    direction: bet.direction,
    stake: formatDecimal(bet.stake),
    leverage: bet.leverage,
    duration_seconds: bet.durationMs / 1000,
    start_price: formatDecimal(bet.startPrice),
    due_at: bet.dueAt.toISOString(),
    status: bet.status,
    end_price: bet.endPrice === null ? null : formatDecimal(bet.endPrice),
    result: bet.result,
    profit: bet.profit === null ? null : formatDecimal(bet.profit),
    payout: bet.profit === null ? null : formatDecimal(new Decimal(bet.stake).plus(bet.profit)),
    settled_at: bet.settledAt?.toISOString() ?? null,
    late: bet.late,
    created_at: bet.createdAt.toISOString(),
  };
}

/** Checks a request against the limits (the stake against the balance is the ledger's check). */
function checkLimits(input: PlaceBetInput, limits: BetLimits): void {
  if (!Number.isInteger(input.leverage) || input.leverage < 1 || input.leverage > limits.leverageMax) {
    throw new BetLimitError(`leverage must be an integer from 1 to ${limits.leverageMax}`, {
      leverage: input.leverage,
    });
  }
  if (input.stake.lt(limits.stakeMin)) {
    throw new BetLimitError(`stake must be at least ${formatDecimal(limits.stakeMin)}`, {
      stake: formatDecimal(input.stake),
    });
  }
  if (
    !Number.isSafeInteger(input.durationMs) ||
    input.durationMs < limits.durationMsMin ||
    input.durationMs > limits.durationMsMax
  ) {
    throw new BetLimitError(
      `duration must be from ${limits.durationMsMin / 1000} to ${limits.durationMsMax / 1000} seconds`,
      { duration_seconds: input.durationMs / 1000 },
    );
  }
}

/**
 * Places a bet. The start price is the server's own: the last price of a quote no older than
 * `PRICE_MAX_AGE_MS` (what the price routes show, cached up to `PRICE_CACHE_TTL_MS`), taken when
 * the bet is accepted; a price a client sends is never used. The stake moves from the wallet's
 * available balance to its locked balance (escrow) in the same database transaction that stores the
 * bet; once committed, its settlement is scheduled at the due time. Idempotent per `scope`.
 * @param present the body of the 201 answer (v1 or seed 002 shape), stored for idempotent replays
 * @returns the answer to send: 201 with `present(bet)`, a stored answer, or a final client error
 * @throws {BetLimitError} (422) leverage, stake or duration outside the limits, or a pair not quoted
 *   in the cash asset
 * @throws {NotFoundError} (404) the wallet is not the caller's
 * @throws {InsufficientFundsError} (400) the stake exceeds the available balance and the request has
 *   no idempotency key (with one, it is stored and returned as the answer); nothing moves
 * @throws {UnknownSymbolError} (404), {PriceUnavailableError} (503) from the price service
 */
export async function placeBet(
  deps: PlaceBetDeps,
  userId: string,
  input: PlaceBetInput,
  scope: IdempotencyScope | undefined,
  present: (bet: BetRow) => unknown,
): Promise<FinalResponse> {
  checkLimits(input, deps.limits);
  // A retry gets its first answer, whatever the price does now.
  const stored = await findStoredAnswer(deps.db, scope);
  if (stored) return stored;
  const symbol = deps.prices.normalizeSymbol(input.symbol);
  if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
  if (!symbol.endsWith(deps.quoteAsset) || symbol.length === deps.quoteAsset.length) {
    throw new BetLimitError(`only ${deps.quoteAsset} pairs can be bet on`, { symbol });
  }
  // The price is fetched before the database transaction opens: no network wait while rows are locked.
  const quote = await deps.prices.getQuote(symbol, 'trade');
  let placed: BetRow | undefined;
  const response = await runIdempotent(deps.db, scope, async (tx) => {
    const wallet = await requireWallet(tx, userId, input.walletId);
    const journal = await deps.ledger.post(tx, {
      kind: 'bet_escrow',
      postings: [
        {
          source: available(wallet.id),
          destination: locked(wallet.id),
          asset: deps.quoteAsset,
          amount: input.stake,
        },
      ],
      metadata: { symbol, direction: input.direction },
    });
    const bet = await insertBet(tx, {
      userId,
      walletId: wallet.id,
      symbol,
      quoteAsset: deps.quoteAsset,
      direction: input.direction,
      stake: input.stake.toFixed(),
      leverage: input.leverage,
      durationMs: input.durationMs,
      startPrice: quote.last,
      dueAt: new Date(deps.clock.nowMs() + input.durationMs),
      placeJournalId: journal.journalId,
    });
    placed = bet;
    return { status: 201, body: present(bet) };
  });
  if (placed && !response.replayed && response.status === 201) {
    const bet = placed as BetRow;
    // Committed: a scheduling failure (Redis down) is not the client's; the sweeper settles the bet.
    await deps.scheduler
      .schedule(bet.id, bet.dueAt.getTime())
      .catch((err: unknown) => deps.logger.error({ err, betId: bet.id }, 'bet settlement not scheduled'));
  }
  return response;
}

/** Maximum bets per page. */
export const BET_PAGE_LIMIT_MAX = 100;

/**
 * The caller's bets, newest first, `limit` per page, optionally only `pending` or `completed` ones.
 * @throws {ValidationError} (422) for a cursor this server did not issue
 */
export async function listBets(
  db: Db,
  userId: string,
  status: 'pending' | 'completed' | undefined,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: BetView[]; next_cursor: string | null }> {
  const rows = await listUserBets(db, userId, status, limit + 1, decodeCursor('b', cursor));
  const { page, nextCursor } = pageOf(rows, limit, 'b', (bet) => bet.placeJournalId);
  return { items: page.map(toBetView), next_cursor: nextCursor };
}

/**
 * A bet the caller may read (their own; anyone's for an admin).
 * @throws {NotFoundError} (404) when it does not exist or the caller may not read it
 */
export async function getBet(db: Db, viewer: Principal, betId: string): Promise<BetRow> {
  const bet = await findBetById(db, betId);
  if (!bet || !mayRead(viewer, bet.userId)) throw new NotFoundError(`bet ${betId} not found`);
  return bet;
}

/** What settling a bet needs: the worker's job context has all of it. */
export interface SettleDeps {
  db: Db;
  ledger: Ledger;
  prices: PriceService;
  clock: Clock;
  events: EventBus;
  logger: Logger;
}

/** What settling one bet came to. */
export type SettleOutcome =
  /** settled now by this call */
  | { kind: 'settled'; bet: BetView }
  /** nothing to do: no such bet, or already completed (by this call's twin, a job or the sweeper) */
  | { kind: 'done' }
  /** not due yet: try again at `dueAtMs` */
  | { kind: 'not-due'; dueAtMs: number }
  /** the price service could not give a price young enough (or failed otherwise): the bet is untouched, still pending; retry later */
  | { kind: 'failed'; error: unknown };

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
  const escrow = locked(walletId);
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

/** One bet ready to settle: its row, and what it pays at the price fetched for it. */
interface Settling {
  bet: BetRow;
  endPrice: Decimal;
  outcome: BetOutcome;
}

/**
 * Settles bets at the server's current price, each exactly once however many callers (its job, a
 * timer, the sweeper, another worker) run it at the same time: the rows of the bets still pending
 * are locked (in id order) and moved to completed by `UPDATE … WHERE status = 'pending'` in the one
 * database transaction that releases their escrow and books their payouts (one journal per bet,
 * written as a batch). The end price is the last price of a quote no older than `PRICE_MAX_AGE_MS`,
 * fetched once per symbol at settlement time — for a bet that came due during an outage, the price on
 * recovery — and a bet settled more than `LATE_GRACE_MS` after its due time is marked `late`. Each
 * settlement is published on its owner's `account:<user id>` channel as `bet.settled`.
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
  // One price per symbol, fetched before the database transaction opens: no network wait under locks.
  const prices = new Map<string, Decimal | { error: unknown }>();
  await Promise.all(
    [...new Set(due.map((bet) => bet.symbol))].map(async (symbol) => {
      const price = await deps.prices.getQuote(symbol, 'trade').then(
        (quote) => new Decimal(quote.last),
        (error: unknown) => ({ error }),
      );
      prices.set(symbol, price);
    }),
  );
  const settling: Settling[] = [];
  for (const bet of due) {
    const price = prices.get(bet.symbol)!;
    if (!(price instanceof Decimal)) {
      outcomes.set(bet.id, { kind: 'failed', error: price.error });
      continue;
    }
    const stake = new Decimal(bet.stake);
    const outcome = betOutcome(bet.direction, stake, bet.leverage, new Decimal(bet.startPrice), price);
    settling.push({ bet, endPrice: price, outcome });
  }
  const settled = await writeSettlements(deps, settling, new Date(deps.clock.nowMs()));
  for (const bet of settled) {
    const view = toBetView(bet);
    outcomes.set(bet.id, { kind: 'settled', bet: view });
    await deps.events
      .publish(`account:${bet.userId}`, { channel: 'account', event: 'bet.settled', data: view })
      .catch((err: unknown) => deps.logger.warn({ err, betId: bet.id }, 'bet.settled event not published'));
  }
  return betIds.map((id) => outcomes.get(id) ?? { kind: 'done' });
}

/** Writes the settlements of the bets still pending, in one database transaction; returns their rows. */
async function writeSettlements(deps: SettleDeps, settling: Settling[], settledAt: Date): Promise<BetRow[]> {
  if (settling.length === 0) return [];
  return await withTransaction(deps.db, async (tx) => {
    const pending = await lockPendingBets(
      tx,
      settling.map((s) => s.bet.id),
    );
    const toWrite = settling.filter((s) => pending.has(s.bet.id));
    if (toWrite.length === 0) return [];
    const journals = await deps.ledger.postBatch(
      tx,
      toWrite.map(({ bet, outcome }) => ({
        kind: 'bet_settlement',
        postings: settlementPostings(bet.walletId, bet.quoteAsset, new Decimal(bet.stake), outcome),
        metadata: { bet_id: bet.id, result: outcome.result },
      })),
    );
    const rows = toWrite.map(({ bet, endPrice, outcome }, i) => {
      const journal = journals[i]!;
      // Escrow always covers a settlement: a refusal here is a broken invariant, not a client error.
      assert(!isRefusal(journal), 'a settlement is paid from its own escrow and the house');
      const fields = {
        endPrice: endPrice.toFixed(),
        result: outcome.result,
        profit: outcome.profit.toFixed(),
        settledAt,
        late: settledAt.getTime() - bet.dueAt.getTime() > LATE_GRACE_MS,
        settleJournalId: journal.journalId,
      };
      return { ...bet, ...fields, status: 'completed' as const };
    });
    const moved = await completeBets(tx, rows);
    assert(moved === rows.length, 'every bet locked while pending is completed once');
    return rows;
  });
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

/**
 * Settles every pending bet whose due time has passed (bets whose job or timer was lost: a restart,
 * an outage, a Redis failure), up to `SWEEP_BATCH_MAX` per call, `SWEEP_CHUNK` per transaction. A
 * bet whose price cannot be had stays pending for the next sweep.
 * @returns how many bets this call settled, and how many it could not (no price, or a failed chunk)
 */
export async function sweepDueBets(deps: SettleDeps): Promise<{ settled: number; failed: number }> {
  const due = await findDuePendingBets(deps.db, new Date(deps.clock.nowMs()), SWEEP_BATCH_MAX);
  const chunks: string[][] = [];
  for (let i = 0; i < due.length; i += SWEEP_CHUNK) chunks.push(due.slice(i, i + SWEEP_CHUNK));
  let settled = 0;
  let failed = 0;
  let next = 0;
  const lane = async () => {
    while (next < chunks.length) {
      const chunk = chunks[next++]!;
      try {
        for (const outcome of await settleBets(deps, chunk)) {
          if (outcome.kind === 'settled') settled++;
          if (outcome.kind === 'failed') failed++;
        }
      } catch (err) {
        failed += chunk.length;
        deps.logger.warn({ err, bets: chunk.length }, 'overdue bets not settled, retried at the next sweep');
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SWEEP_CONCURRENCY, chunks.length) }, lane));
  if (failed > 0) deps.logger.warn({ failed }, 'overdue bets left pending (no fresh price?)');
  return { settled, failed };
}

/** How long a settlement request waits for others to share its transaction (ms). */
const BATCH_WAIT_MS = 10;
/** Bets settled per transaction at most by the batcher. */
const BATCH_SIZE_MAX = 200;

/**
 * Gathers the settlements asked for at about the same time (timers or jobs of bets due in the same
 * instant) into one `settleBets` call — one database transaction — waiting at most `BATCH_WAIT_MS`
 * for company, so that 1,000 bets due in one second cost tens of transactions, not 1,000.
 */
export class SettlementBatcher {
  private waiting: { betId: string; resolve: (o: SettleOutcome) => void; reject: (e: unknown) => void }[] =
    [];
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly deps: SettleDeps) {}

  /** Settles what waits now and waits for every batch in flight (before the database closes). */
  async close(): Promise<void> {
    while (this.waiting.length > 0) this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.all(this.running);
  }

  /**
   * Settles the bet with the next batch.
   * @returns its outcome (`failed` when no fresh price could be had); rejects when the batch's
   *   transaction failed (nothing written)
   */
  submit(betId: string): Promise<SettleOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ betId, resolve, reject });
      if (this.waiting.length >= BATCH_SIZE_MAX) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), BATCH_WAIT_MS);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.waiting.splice(0, BATCH_SIZE_MAX);
    if (this.waiting.length > 0) this.timer = setTimeout(() => this.flush(), 0);
    if (batch.length === 0) return;
    const run = settleBets(
      this.deps,
      batch.map((b) => b.betId),
    ).then(
      (outcomes) => {
        for (const [i, b] of batch.entries()) b.resolve(outcomes[i]!);
      },
      (error: unknown) => {
        for (const b of batch) b.reject(error);
      },
    );
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }
}

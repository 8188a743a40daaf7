import type { Logger } from 'pino';
import type { IdempotencyScope } from '../../platform/commands/idempotency.js';
import type { Answered, CommandRunner, MoneyCommand, Rendering } from '../../platform/commands/runner.js';
import type { Config } from '../../platform/config/env.js';
import type { Db } from '../../platform/db/client.js';
import { mayRead } from '../../platform/http/access.js';
import type { Principal } from '../../platform/http/auth-guard.js';
import { defined } from '../../shared/assert.js';
import type { Clock } from '../../shared/clock.js';
import { decodeCursor, pageOf } from '../../shared/cursor.js';
import { BALANCE_MAX, Decimal, formatDecimal } from '../../shared/decimal.js';
import { type DomainError, NotFoundError, ValidationError } from '../../shared/errors.js';
import { available, BalanceLimitError, betEscrow, isRefusal, type Ledger } from '../ledger/index.js';
import type { PriceService } from '../market/index.js';
import { requireWallet } from '../wallets/index.js';
import { BetLimitError } from './errors.js';
import type { BetDirection } from './payout.js';
import { type BetRow, findBetById, insertBet, listUserBets } from './repository.js';
import type { SettlementScheduler } from './scheduler.js';
import { type BetView, toBetView } from './views.js';

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
  /** where every money movement runs */
  runner: CommandRunner;
  /** the bet placement command (`placeBetCommand`), one per process */
  placeBets: MoneyCommand<PreparedBet, BetRow>;
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

/**
 * Checks a request against the limits (the stake against the balance is the ledger's check). The
 * best-case payout — the stake back plus stake × leverage, what a 100 % move pays — must fit the
 * largest balance, so that no ordinary outcome can be refused at settlement.
 */
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
  const bestCasePayout = input.stake.times(input.leverage + 1);
  if (bestCasePayout.gt(BALANCE_MAX)) {
    throw new BalanceLimitError(
      `stake × (leverage + 1) must not exceed the largest balance (${formatDecimal(BALANCE_MAX)})`,
      { best_case_payout: formatDecimal(bestCasePayout), balance_max: formatDecimal(BALANCE_MAX) },
    );
  }
}

/** Bets placed in one database transaction at most. */
const PLACE_BATCH_SIZE_MAX = 128;
/** Bets waiting at most before new ones are refused with 503. */
const PLACE_QUEUE_LENGTH_MAX = 10_000;

/** A bet checked and priced, ready to be written. */
export interface PreparedBet {
  userId: string;
  walletId: string;
  symbol: string;
  input: PlaceBetInput;
  /** the start price: the last price of the quote taken when the bet was accepted */
  startPrice: string;
}

/**
 * The money command of bet placements, one lane for all: the stakes of a batch move from each
 * wallet's available balance to its bet escrow by one ledger batch (each decided on its own, in
 * arrival order), and each accepted bet is stored in the same transaction.
 */
export function placeBetCommand(
  ledger: Ledger,
  quoteAsset: string,
  clock: Clock,
): MoneyCommand<PreparedBet, BetRow> {
  return {
    name: 'bet_place',
    limits: { batchSizeMax: PLACE_BATCH_SIZE_MAX, queueLengthMax: PLACE_QUEUE_LENGTH_MAX },
    laneOf: () => 'bets',
    async apply(tx, items) {
      const journals = await ledger.postBatch(
        tx,
        items.map((bet) => ({
          kind: 'bet_escrow',
          postings: [
            {
              source: available(bet.walletId),
              destination: betEscrow(bet.walletId),
              asset: quoteAsset,
              amount: bet.input.stake,
            },
          ],
          metadata: { symbol: bet.symbol, direction: bet.input.direction },
        })),
      );
      const results: (BetRow | DomainError)[] = [];
      for (const [n, bet] of items.entries()) {
        const journal = defined(journals[n]);
        if (isRefusal(journal)) {
          results.push(journal);
          continue;
        }
        results.push(
          await insertBet(tx, {
            userId: bet.userId,
            walletId: bet.walletId,
            symbol: bet.symbol,
            quoteAsset,
            direction: bet.input.direction,
            stake: bet.input.stake.toFixed(),
            leverage: bet.input.leverage,
            durationMs: bet.input.durationMs,
            startPrice: bet.startPrice,
            dueAt: new Date(clock.nowMs() + bet.input.durationMs),
            placeJournalId: journal.journalId,
          }),
        );
      }
      return results;
    },
  };
}

/**
 * Checks and prices a bet before any transaction opens (no network wait while rows are locked).
 * @throws {BetLimitError}, {BalanceLimitError}, {ValidationError} (422); {NotFoundError},
 *   {UnknownSymbolError} (404); {PriceUnavailableError} (503)
 */
async function prepareBet(deps: PlaceBetDeps, userId: string, input: PlaceBetInput): Promise<PreparedBet> {
  checkLimits(input, deps.limits);
  const symbol = deps.prices.normalizeSymbol(input.symbol);
  if (!symbol) throw new ValidationError('symbol must be 2–20 letters or digits, e.g. BTCUSDT or BTC');
  if (!symbol.endsWith(deps.quoteAsset) || symbol.length === deps.quoteAsset.length) {
    throw new BetLimitError(`only ${deps.quoteAsset} pairs can be bet on`, { symbol });
  }
  const [wallet, quote] = await Promise.all([
    requireWallet(deps.db, userId, input.walletId),
    deps.prices.getQuote(symbol, 'trade'),
  ]);
  return { userId, walletId: wallet.id, symbol, input, startPrice: quote.last };
}

/**
 * Places a bet. The start price is the server's own: the last price of a quote no older than
 * `PRICE_MAX_AGE_MS` (what the price routes show, cached up to `PRICE_CACHE_TTL_MS`), taken when
 * the bet is accepted; a price a client sends is never used. The stake moves from the wallet's
 * available balance to its escrow in the same database transaction that stores the bet (the bet
 * command); once committed, its settlement is scheduled at the due time. Idempotent per `scope`.
 * @param rendering the 201 answer (v1 or seed 002 shape), stored for idempotent replays
 * @returns the answer to send and the bet when it was placed now
 * @throws {BetLimitError} (422) leverage, stake or duration outside the limits, or a pair not quoted
 *   in the cash asset
 * @throws {BalanceLimitError} (422) stake × (leverage + 1) beyond `BALANCE_MAX`
 * @throws {NotFoundError} (404) the wallet is not the caller's
 * @throws {InsufficientFundsError} (400) the stake exceeds the available balance and the request has
 *   no idempotency key (with one, it is stored and returned as the answer); nothing moves
 * @throws {UnknownSymbolError} (404), {PriceUnavailableError}, {TransactionContentionError},
 *   {CommitOutcomeUnknownError} (503)
 */
export async function placeBet(
  deps: PlaceBetDeps,
  userId: string,
  input: PlaceBetInput,
  scope: IdempotencyScope | undefined,
  rendering: Rendering<BetRow>,
): Promise<Answered<BetRow>> {
  // A retry gets its first answer, whatever the price does now.
  const stored = await deps.runner.storedAnswer(scope);
  if (stored) return { response: stored };
  const bet = await prepareBet(deps, userId, input);
  const answered = await deps.runner.execute(deps.placeBets, bet, { scope, ...rendering });
  const placed = answered.result;
  if (placed) {
    // Committed: a scheduling failure (Redis down) is not the client's; the sweeper settles the bet.
    await deps.scheduler
      .schedule(placed.id, placed.dueAt.getTime())
      .catch((err: unknown) => deps.logger.error({ err, betId: placed.id }, 'bet settlement not scheduled'));
  }
  return answered;
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

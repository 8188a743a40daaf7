import type { Logger } from 'pino';
import { runEvery } from '../../platform/jobs/interval.js';
import { findUpcomingPendingBets } from './repository.js';
import type { SettlementScheduler } from './scheduler.js';
import { type SettleDeps, settleBet, sweepDueBets } from './settlement.js';

/** Pending bets re-armed at start-up at most (the sweeper settles any beyond, once due). */
const REARM_COUNT_MAX = 100_000;

/** What the bet jobs need: the worker's job context and the process's scheduler. */
export interface BetJobsDeps extends SettleDeps {
  logger: Logger;
  /** how often the sweeper looks for overdue pending bets (ms): BET_SWEEP_INTERVAL_MS */
  sweepIntervalMs: number;
}

/**
 * Starts settling bets in this process (the `worker` and `all` roles): the scheduler's jobs (BullMQ
 * worker or in-process timers) settle each bet at its due time (those due together share a
 * transaction: the settlement command's lane has a short window), every pending bet not yet due is
 * (re-)scheduled — so a restart loses no timer — and the sweeper settles every overdue pending bet
 * at once and then every `sweepIntervalMs`: bets that came due while no worker ran are settled on
 * recovery, exactly once, and marked late.
 * @returns a function that stops the sweeper and the scheduler's worker side
 */
export async function startBetJobs(
  deps: BetJobsDeps,
  scheduler: SettlementScheduler,
): Promise<() => Promise<void>> {
  const { logger } = deps;
  await scheduler.start(async (betId) => {
    const outcome = await settleBet(deps, betId);
    if (outcome.kind === 'failed') throw outcome.error;
    return outcome.kind === 'not-due' ? outcome.dueAtMs : undefined;
  });
  const upcoming = await findUpcomingPendingBets(deps.db, new Date(deps.clock.nowMs()), REARM_COUNT_MAX);
  for (const bet of upcoming) await scheduler.schedule(bet.id, bet.dueAt.getTime());
  const sweep = async () => {
    const { settled, failed, refused } = await sweepDueBets(deps);
    if (settled > 0) logger.info({ settled, failed, refused }, 'overdue bets swept');
  };
  await sweep().catch((err: unknown) => logger.error({ err }, 'bet sweep at start-up failed'));
  const stopSweeps = runEvery('bet-sweep', deps.sweepIntervalMs, sweep, logger);
  return async () => {
    await stopSweeps();
    await deps.runner.close();
  };
}

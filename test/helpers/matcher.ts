import { Ledger } from '../../src/modules/ledger/index.js';
import { createPriceService } from '../../src/modules/market/index.js';
import { matchAll } from '../../src/modules/trading/index.js';
import { MatchCommand } from '../../src/modules/trading/match-command.js';
import type { MatcherDeps } from '../../src/modules/trading/matcher.js';
import { CommandRunner } from '../../src/platform/commands/runner.js';
import type { ProcessDeps } from '../../src/process-deps.js';

/** A matcher of its own, as one worker runs it: its own command runner, ledger writer and price service. */
export interface TestMatcher {
  deps: MatcherDeps;
  command: MatchCommand;
  /** one pass over `symbols` (default: every symbol with open orders) at the current price; how many filled */
  match(symbols?: string[]): Promise<number>;
  /** waits for the batches in progress */
  close(): Promise<void>;
}

/**
 * Builds the matcher's dependencies from an app's (as `src/jobs.ts` does for the worker role), so a
 * test drives matching itself, deterministically, instead of waiting for the worker's timer or tick.
 */
export function createTestMatcher(process: ProcessDeps): TestMatcher {
  const { config } = process;
  const runner = new CommandRunner(process.db);
  const deps: MatcherDeps = {
    db: process.db,
    events: process.events,
    logger: process.logger,
    clock: process.clock,
    runner,
    ledger: new Ledger(),
    prices: createPriceService(
      config,
      process.cache,
      process.clock,
      process.priceSource,
      process.fallbackPriceSource,
      process.events,
    ),
    makerFeeRate: config.makerFeeRate,
    takerFeeRate: config.takerFeeRate,
    margin: { initial: config.shortInitialMarginRate, maintenance: config.shortMaintenanceMarginRate },
  };
  const command = new MatchCommand(deps);
  return {
    deps,
    command,
    match: (symbols) => matchAll(deps, command, symbols),
    close: () => runner.close(),
  };
}

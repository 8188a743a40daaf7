/**
 * Every scenario of `npm run bench`, in the order they run and their rows print (see
 * bench/README.md). A baseline comes before the scenarios compared to it. Adding a scenario: its
 * file in this folder, exporting a {@link Scenario}, and its line here.
 */
import type { Scenario } from '../harness/scenario.js';
import { baseline } from './baseline.js';
import { bets } from './bets.js';
import { burst } from './burst.js';
import { hot, hotSql } from './hot.js';
import { liquidation } from './liquidation.js';
import { orders } from './orders.js';
import { hello, prices } from './prices.js';
import { resting } from './resting.js';
import { spread } from './spread.js';
import { stampede } from './stampede.js';
import { stream } from './stream.js';

export const SCENARIOS: readonly Scenario[] = [
  baseline, // A
  orders,
  spread,
  hotSql, // B
  hot,
  burst,
  hello, // C (and the cached price reads, measured in turn with it)
  prices,
  stampede,
  bets,
  liquidation,
  resting,
  stream,
];

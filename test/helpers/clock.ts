import type { Clock } from '../../src/shared/clock.js';

/** A clock the test moves by hand. */
export interface ManualClock extends Clock {
  /** moves the clock `ms` forward; returns the new reading (ms since epoch) */
  advance(ms: number): number;
}

/** A clock that reads `startMs` until the test moves it. */
export function manualClock(startMs = Date.now()): ManualClock {
  let nowMs = startMs;
  return { nowMs: () => nowMs, advance: (ms: number) => (nowMs += ms) };
}

/**
 * A clock that runs with real time (so upstream deadlines pass as they would) and that the test
 * can also move forward at once: reads `Date.now()` plus every `advance` so far.
 */
export function advancingClock(): ManualClock {
  let aheadMs = 0;
  return {
    nowMs: () => Date.now() + aheadMs,
    advance: (ms: number) => {
      aheadMs += ms;
      return Date.now() + aheadMs;
    },
  };
}

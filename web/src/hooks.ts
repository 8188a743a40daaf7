import { useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './api/client';
import { useSession } from './session';
import type { PriceTick } from './stream';

/** The live price of `symbol` from the stream (undefined until the first tick). */
export function usePrice(symbol: string | undefined): PriceTick | undefined {
  const { stream } = useSession();
  const [tick, setTick] = useState<PriceTick | undefined>(undefined);
  useEffect(() => {
    setTick(undefined);
    if (!symbol) return;
    return stream.watch(symbol, setTick);
  }, [stream, symbol]);
  return tick;
}

/** What a read gave: its data, or the error in words, and whether it is loading. */
export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
}

/** Runs `load` when a dependency changes (the account revision among them) and keeps its answer. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<Loaded<T>>({ data: undefined, error: undefined, loading: true });
  useEffect(() => {
    let current = true;
    setState((s) => ({ ...s, loading: true }));
    load().then(
      (data) => current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => current && setState((s) => ({ ...s, error: messageOf(error), loading: false })),
    );
    return () => {
      current = false;
    };
  }, deps);
  return state;
}

/**
 * One action at a time (a submit, a close): `run` does nothing while the last one is in flight. The
 * guard is a ref, set at once: state would only change at the next render, and a double click
 * arrives before it.
 */
export function useSingleFlight(): { busy: boolean; run(action: () => Promise<void>): Promise<void> } {
  const inFlight = useRef(false);
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    if (inFlight.current) return;
    inFlight.current = true;
    setBusy(true);
    try {
      await action();
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };
  return { busy, run };
}

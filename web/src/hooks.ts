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
 * The pages of a cursor-paged list, read again from the first when a dependency changes. As with
 * `useLoad`, an answer to an older read (another wallet's, a revision ago) is dropped, not shown.
 */
export function usePages<T>(
  load: (cursor: string | undefined) => Promise<{ items: T[]; next_cursor: string | null }>,
  deps: unknown[],
): { items: T[]; hasMore: boolean; more(): Promise<void>; error: string | undefined } {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<string | undefined>(undefined);
  // Which read the shown pages belong to: a "more" of an older read is dropped too.
  const generation = useRef(0);
  useEffect(() => {
    const mine = ++generation.current;
    load(undefined).then(
      (page) => {
        if (mine !== generation.current) return;
        setItems(page.items);
        setCursor(page.next_cursor);
        setError(undefined);
      },
      (e: unknown) => mine === generation.current && setError(messageOf(e)),
    );
  }, deps);
  const more = async () => {
    if (!cursor) return;
    const mine = generation.current;
    try {
      const page = await load(cursor);
      if (mine !== generation.current) return;
      setItems((list) => [...list, ...page.items]);
      setCursor(page.next_cursor);
    } catch (e) {
      if (mine === generation.current) setError(messageOf(e));
    }
  };
  return { items, hasMore: cursor !== null, more, error };
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

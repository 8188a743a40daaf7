import { type ComponentChildren, createContext } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useState } from 'preact/hooks';
import { api, call, type MarketSymbol, type TradingFees, type User, type Wallet } from './api/client';
import { describeOrder, fmt, fmtSigned, sideLabel } from './format';
import type { AccountEvent, Stream } from './stream';

/** A short message shown for a few seconds (fills, settlements, wallet operations, errors). */
export interface Toast {
  id: number;
  text: string;
  tone: 'info' | 'good' | 'bad';
}

/** What every screen of a signed-in user shares. */
export interface Session {
  user: User;
  stream: Stream;
  wallets: Wallet[];
  /** the wallet the screens act on */
  wallet: Wallet | undefined;
  selectWallet(id: string): void;
  /** reads the wallets again (after an operation, a fill) */
  refreshWallets(): Promise<void>;
  /** grows by one with each account event: screens that show account data read again when it moves */
  revision: number;
  /**
   * says that this screen changed the account (an order placed): the screens read again at once,
   * not only when its event comes (events are delivered at most once)
   */
  changed(): void;
  symbols: MarketSymbol[];
  fees: TradingFees | undefined;
  toast(text: string, tone?: Toast['tone']): void;
  toasts: Toast[];
}

const SessionContext = createContext<Session | undefined>(undefined);

/** The session of the signed-in user; only under `SessionProvider`. */
export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside SessionProvider');
  return session;
}

const TOAST_MS = 6_000;
let toastIds = 0;

/** Words for an account event, as a toast says it. */
function describeEvent(event: AccountEvent): { text: string; tone: Toast['tone'] } {
  const d = event.data as Record<string, string | null | undefined>;
  switch (event.event) {
    case 'order.filled':
      return {
        text: `Filled: ${sideLabel(d.side ?? '')} ${fmt(d.quantity)} ${d.symbol} at ${fmt(d.avg_fill_price)}`,
        tone: 'good',
      };
    case 'order.accepted':
      return { text: `Order placed: ${describeOrder(d)}`, tone: 'info' };
    case 'order.triggered':
      return { text: `Triggered: ${describeOrder(d)}`, tone: 'info' };
    case 'order.canceled':
      return { text: `Canceled: ${describeOrder(d)}`, tone: 'info' };
    case 'order.expired':
      return { text: `Expired: ${describeOrder(d)}`, tone: 'bad' };
    case 'order.rejected':
      return { text: `Rejected (the wallet could not pay): ${describeOrder(d)}`, tone: 'bad' };
    case 'position.liquidated':
      return { text: `Liquidated: short ${d.symbol}`, tone: 'bad' };
    case 'bet.settled':
      return {
        text: `Bet settled: ${d.result === 'W' ? 'won' : d.result === 'L' ? 'lost' : 'draw'} (${d.result}), profit ${fmtSigned(d.profit, 8, false)} on ${d.symbol}`,
        tone: d.result === 'L' ? 'bad' : 'good',
      };
    case 'wallet.operation':
      return {
        text: `${d.operation_type === 'DEPOSIT' ? 'Deposit' : 'Withdrawal'}: ${fmt(d.amount)} ${d.asset}`,
        tone: 'info',
      };
    default:
      return { text: event.event, tone: 'info' };
  }
}

/** Holds the session: wallets, symbols, fees, the account stream's events and the toasts. */
export function SessionProvider(props: { user: User; stream: Stream; children: ComponentChildren }) {
  const { user, stream } = props;
  const [wallets, setWallets] = useState<Wallet[]>([]);
  const [walletId, setWalletId] = useState<string | undefined>(undefined);
  const [revision, setRevision] = useState(0);
  const [symbols, setSymbols] = useState<MarketSymbol[]>([]);
  const [fees, setFees] = useState<TradingFees | undefined>(undefined);
  const [toasts, setToasts] = useState<Toast[]>([]);

  const toast = useCallback((text: string, tone: Toast['tone'] = 'info') => {
    const id = ++toastIds;
    setToasts((list) => [...list.slice(-4), { id, text, tone }]);
    setTimeout(() => setToasts((list) => list.filter((t) => t.id !== id)), TOAST_MS);
  }, []);

  const changed = useCallback(() => setRevision((n) => n + 1), []);

  const refreshWallets = useCallback(async () => {
    const page = await call(() => api.GET('/api/v1/wallets'));
    setWallets(page.items);
    setWalletId((current) => current ?? page.items.find((w) => w.is_default)?.id ?? page.items[0]?.id);
  }, []);

  // What every screen needs, read until it answers (a busy or restarting server answers later).
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (attempt: number) => {
      try {
        await Promise.all([
          refreshWallets(),
          call(() => api.GET('/api/v1/market/symbols')).then((list) => setSymbols(list.items)),
          call(() => api.GET('/api/v1/market/fees')).then(setFees),
        ]);
      } catch {
        if (!stopped) timer = setTimeout(() => load(attempt + 1), Math.min(30_000, 1_000 * 2 ** attempt));
      }
    };
    load(0);
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [refreshWallets]);

  // Back live after a lost connection: what happened meanwhile came by no event, so read again.
  useEffect(() => {
    let wasLost = false;
    return stream.onState((state) => {
      if (state.status === 'reconnecting') wasLost = true;
      if (state.status === 'live' && wasLost) {
        wasLost = false;
        setRevision((n) => n + 1);
        refreshWallets().catch(() => undefined);
      }
    });
  }, [stream, refreshWallets]);

  useEffect(
    () =>
      stream.onAccount((event) => {
        const said = describeEvent(event);
        toast(said.text, said.tone);
        setRevision((n) => n + 1);
        refreshWallets().catch(() => undefined);
      }),
    [stream, toast, refreshWallets],
  );

  const value = useMemo<Session>(
    () => ({
      user,
      stream,
      wallets,
      wallet: wallets.find((w) => w.id === walletId),
      selectWallet: setWalletId,
      refreshWallets,
      revision,
      changed,
      symbols,
      fees,
      toast,
      toasts,
    }),
    [user, stream, wallets, walletId, refreshWallets, revision, changed, symbols, fees, toast, toasts],
  );
  return <SessionContext.Provider value={value}>{props.children}</SessionContext.Provider>;
}

import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, call, setUnauthorizedHandler, type User } from './api/client';
import { Toasts } from './components/toasts';
import { navigate, usePath } from './router';
import { Account } from './screens/account';
import { Balances } from './screens/balances';
import { Bets } from './screens/bets';
import { Market } from './screens/market';
import { OpenOrders } from './screens/open-orders';
import { Orders, Positions } from './screens/orders';
import { Portfolio, Transactions } from './screens/portfolio';
import { SignIn } from './screens/signin';
import { OrderTicket } from './screens/ticket';
import { Tracking } from './screens/tracking';
import { SessionProvider, useSession } from './session';
import { Stream, type StreamState } from './stream';

/** The screens, by path (the server answers the app's shell at each). */
const SCREENS = [
  ['/', 'Trade'],
  ['/orders', 'Orders'],
  ['/positions', 'Positions'],
  ['/portfolio', 'Portfolio'],
  ['/transactions', 'Transactions'],
  ['/bets', 'Bets'],
  ['/tracking', 'Tracked'],
  ['/account', 'Account'],
] as const;

/** The stream's state in words, on screen (a lost stream says so, and when it retries). */
function StreamStatus() {
  const { stream } = useSession();
  const [state, setState] = useState<StreamState>({ status: 'connecting' });
  useEffect(() => stream.onState(setState), [stream]);
  const text =
    state.status === 'live'
      ? 'Live'
      : state.status === 'connecting'
        ? 'Connecting…'
        : `Connection lost: reconnecting in ${Math.ceil((state.retryInMs ?? 0) / 1000)} s`;
  return (
    <span class={`stream ${state.status}`} role="status" aria-label="Stream">
      {text}
    </span>
  );
}

function Header(props: { path: string; onSignOut(): void }) {
  const { user } = useSession();
  return (
    <header class="top">
      <a class="brand" href="/" onClick={link('/')}>
        paperbroker
      </a>
      <nav aria-label="Screens">
        {SCREENS.map(([path, name]) => (
          <a
            key={path}
            href={path}
            onClick={link(path)}
            aria-current={props.path === path ? 'page' : undefined}
          >
            {name}
          </a>
        ))}
      </nav>
      <div class="who">
        <StreamStatus />
        <span class="user">{user.username}</span>
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
    </header>
  );
}

/** A click on an in-app link: no reload (a modified click opens a tab as usual). */
function link(path: string) {
  return (event: MouseEvent) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(path);
  };
}

function Screen(props: { path: string; onDeleted(): void }) {
  const [symbol, setSymbol] = useState('BTCUSDT');
  switch (props.path) {
    case '/orders':
      return (
        <>
          <OpenOrders symbol={symbol} />
          <Orders pageSize={50} />
        </>
      );
    case '/positions':
      return <Positions />;
    case '/portfolio':
      return (
        <>
          <Portfolio />
          <Positions />
        </>
      );
    case '/transactions':
      return <Transactions />;
    case '/bets':
      return <Bets symbol={symbol} />;
    case '/tracking':
      return <Tracking />;
    case '/account':
      return <Account onDeleted={props.onDeleted} />;
    default:
      return (
        <div class="trade">
          <Market symbol={symbol} onSymbol={setSymbol} />
          <OrderTicket symbol={symbol} onSymbol={setSymbol} />
          <Balances />
          <OpenOrders symbol={symbol} />
          <Positions />
          <Orders pageSize={10} />
        </div>
      );
  }
}

/** The signed-in terminal: one stream for the session, the header, the screen of the path. */
function Terminal(props: { user: User; onSignedOut(): void }) {
  const path = usePath();
  const stream = useMemo(() => new Stream(), []);
  useEffect(() => {
    stream.start();
    return () => stream.stop();
  }, [stream]);
  const signOut = async () => {
    await call(() => api.POST('/api/v1/auth/logout', {})).catch(() => undefined);
    props.onSignedOut();
  };
  useEffect(() => {
    const name = SCREENS.find(([p]) => p === path)?.[1] ?? 'Trade';
    document.title = `${name} · paperbroker`;
  }, [path]);
  return (
    <SessionProvider user={props.user} stream={stream}>
      <Header path={path} onSignOut={signOut} />
      <main id="main">
        <h1 class="sr-only">{SCREENS.find(([p]) => p === path)?.[1] ?? 'Trade'}</h1>
        <Screen path={path} onDeleted={props.onSignedOut} />
      </main>
      <footer class="bottom">
        Paper money only. Prices from the server’s price source. Charts by{' '}
        <a href="https://www.tradingview.com/" rel="noopener noreferrer" target="_blank">
          TradingView
        </a>{' '}
        lightweight-charts. API: <a href="/docs">/docs</a>.
      </footer>
      <Toasts />
    </SessionProvider>
  );
}

/** The app: who is signed in (the session cookie, asked of `/users/me`), then the terminal or the sign-in. */
export function App() {
  const [user, setUser] = useState<User | null | undefined>(undefined);
  useEffect(() => {
    setUnauthorizedHandler(() => setUser(null));
    call(() => api.GET('/api/v1/users/me')).then(setUser, () => setUser(null));
  }, []);
  if (user === undefined) return <p class="loading">Loading…</p>;
  if (user === null)
    return (
      <SignIn
        onSignedIn={(u) => {
          if (window.location.pathname === '/signin') navigate('/');
          setUser(u);
        }}
      />
    );
  return <Terminal user={user} onSignedOut={() => setUser(null)} />;
}

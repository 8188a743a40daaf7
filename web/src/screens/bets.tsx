import { useEffect, useState } from 'preact/hooks';
import { api, type Bet, call, idempotencyKey, messageOf } from '../api/client';
import { ErrorText, Region, Scroll } from '../components/region';
import { fmt, fmtMoney, fmtSigned, fmtTime, isPositiveDecimal, signClass } from '../format';
import { useLoad, useSingleFlight } from '../hooks';
import { useSession } from '../session';
import { SymbolField } from './market';

const RESULTS: Record<string, string> = { W: 'Won (W)', L: 'Lost (L)', D: 'Draw (D)' };

/** Seconds left until `dueAt`, ticking once a second (display only: the server settles). */
function useCountdown(dueAt: string): number {
  const due = Date.parse(dueAt);
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return Math.max(0, Math.ceil((due - now) / 1000));
}

function Countdown(props: { dueAt: string }) {
  const left = useCountdown(props.dueAt);
  return <span>{left > 0 ? `${left} s left` : 'settling…'}</span>;
}

/** The form that places a price bet: symbol, up or down, stake, leverage, duration. */
function PlaceBet(props: { symbol: string; onPlaced(): void }) {
  const { wallet, toast } = useSession();
  const [symbol, setSymbol] = useState(props.symbol);
  const [direction, setDirection] = useState<'up' | 'down'>('up');
  const [stake, setStake] = useState('10');
  const [leverage, setLeverage] = useState('1');
  const [duration, setDuration] = useState('60');
  const [error, setError] = useState<string | undefined>(undefined);
  const flight = useSingleFlight();
  const [key, setKey] = useState(idempotencyKey);
  const changed =
    <T,>(set: (v: T) => void) =>
    (v: T) => {
      set(v);
      setKey(idempotencyKey());
    };

  const place = (event: Event) => {
    event.preventDefault();
    if (!isPositiveDecimal(stake)) return setError('Enter a positive stake, e.g. 10');
    if (!/^\d+$/.test(leverage) || !/^\d+$/.test(duration))
      return setError('Leverage and duration are whole numbers');
    return flight.run(async () => {
      setError(undefined);
      try {
        const bet = await call(() =>
          api.POST('/api/v1/bets', {
            body: {
              wallet_id: wallet?.id,
              symbol,
              direction,
              stake: stake.trim(),
              leverage: Number(leverage),
              duration_seconds: Number(duration),
            },
            headers: { 'Idempotency-Key': key },
          }),
        );
        toast(`Bet placed: ${bet.symbol} ${bet.direction} from ${fmt(bet.start_price)}`, 'good');
        setKey(idempotencyKey());
        props.onPlaced();
      } catch (e) {
        setError(messageOf(e));
      }
    });
  };

  return (
    <form onSubmit={place} noValidate class="bet-form">
      <SymbolField label="Bet symbol" value={symbol} onChange={changed(setSymbol)} />
      <fieldset class="segmented">
        <legend>Direction</legend>
        <label>
          <input
            type="radio"
            name="direction"
            checked={direction === 'up'}
            onChange={() => changed(setDirection)('up')}
          />
          Up
        </label>
        <label>
          <input
            type="radio"
            name="direction"
            checked={direction === 'down'}
            onChange={() => changed(setDirection)('down')}
          />
          Down
        </label>
      </fieldset>
      <label class="field">
        <span>Stake</span>
        <input inputMode="decimal" value={stake} onInput={(e) => changed(setStake)(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Leverage</span>
        <input
          inputMode="numeric"
          value={leverage}
          onInput={(e) => changed(setLeverage)(e.currentTarget.value)}
        />
      </label>
      <label class="field">
        <span>Duration (seconds)</span>
        <input
          inputMode="numeric"
          value={duration}
          onInput={(e) => changed(setDuration)(e.currentTarget.value)}
        />
      </label>
      <ErrorText error={error} />
      <button type="submit" class="primary" disabled={flight.busy || !wallet} aria-busy={flight.busy}>
        Place bet
      </button>
    </form>
  );
}

function BetRow(props: { bet: Bet }) {
  const b = props.bet;
  return (
    <tr>
      <td>{fmtTime(b.created_at)}</td>
      <td>{b.symbol}</td>
      <td>{b.direction === 'up' ? 'Up' : 'Down'}</td>
      <td class="num">{fmtMoney(b.stake)}</td>
      <td class="num">{b.leverage}×</td>
      <td class="num">{fmt(b.start_price)}</td>
      <td class="num">{fmt(b.end_price)}</td>
      <td>{b.status === 'pending' ? <Countdown dueAt={b.due_at} /> : (RESULTS[b.result ?? ''] ?? '—')}</td>
      <td class={`num ${signClass(b.profit)}`}>{fmtSigned(b.profit, 8, false)}</td>
    </tr>
  );
}

/** Price bets: place one, watch it count down, see it settle (by stream), and the history. */
export function Bets(props: { symbol: string }) {
  const { revision } = useSession();
  const [placed, setPlaced] = useState(0);
  const bets = useLoad(
    () => call(() => api.GET('/api/v1/bets', { params: { query: { limit: 50 } } })),
    [revision, placed],
  );
  const items = bets.data?.items ?? [];
  return (
    <Region title="Bets" id="bets">
      <PlaceBet symbol={props.symbol} onPlaced={() => setPlaced((n) => n + 1)} />
      <ErrorText error={bets.error} />
      {items.length === 0 ? (
        <p>No bets yet.</p>
      ) : (
        <Scroll label="Bets table">
          <table>
            <caption>Your bets</caption>
            <thead>
              <tr>
                <th scope="col">Placed</th>
                <th scope="col">Symbol</th>
                <th scope="col">Direction</th>
                <th scope="col" class="num">
                  Stake
                </th>
                <th scope="col" class="num">
                  Leverage
                </th>
                <th scope="col" class="num">
                  Start price
                </th>
                <th scope="col" class="num">
                  End price
                </th>
                <th scope="col">Result</th>
                <th scope="col" class="num">
                  Profit
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((b) => (
                <BetRow key={b.id} bet={b} />
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </Region>
  );
}

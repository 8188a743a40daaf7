import Decimal from 'decimal.js';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, type Candle, call } from '../api/client';
import { type Bar, Chart } from '../components/chart';
import { ErrorText, Region, Stat } from '../components/region';
import { fmt, fmtSigned, signClass } from '../format';
import { useLoad, usePrice } from '../hooks';
import { useSession } from '../session';

/** The chart's intervals and their length (s). */
const INTERVALS = [
  ['1m', 60],
  ['5m', 300],
  ['1h', 3_600],
  ['1d', 86_400],
] as const;
type Interval = (typeof INTERVALS)[number][0];

/** A candle as decimal strings (the caption) and its start (s). */
interface LiveCandle {
  time: number;
  open: string;
  high: string;
  low: string;
  close: string;
}

const toSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const toBar = (c: LiveCandle): Bar => ({
  time: c.time,
  open: Number(c.open),
  high: Number(c.high),
  low: Number(c.low),
  close: Number(c.close),
});

/** The last candle moved by a tick at `price`, or a new one when the tick starts the next interval. */
function moveCandle(last: LiveCandle | undefined, price: string, time: number, seconds: number): LiveCandle {
  const start = time - (time % seconds);
  if (!last || start > last.time) return { time: start, open: price, high: price, low: price, close: price };
  const p = new Decimal(price);
  return {
    ...last,
    high: Decimal.max(last.high, p).toString(),
    low: Decimal.min(last.low, p).toString(),
    close: price,
  };
}

/** Symbol search: a text field with the served symbols as suggestions; a known symbol is chosen. */
export function SymbolField(props: { label: string; value: string; onChange(symbol: string): void }) {
  const { symbols } = useSession();
  const [text, setText] = useState(props.value);
  useEffect(() => setText(props.value), [props.value]);
  const id = `symbols-${props.label.replace(/\W/g, '')}`;
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        list={id}
        value={text}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => {
          const next = e.currentTarget.value.toUpperCase();
          setText(next);
          if (symbols.some((s) => s.symbol === next)) props.onChange(next);
        }}
      />
      <datalist id={id}>
        {symbols.map((s) => (
          <option key={s.symbol} value={s.symbol} />
        ))}
      </datalist>
    </label>
  );
}

/** The market of one symbol: live last, bid and ask, the 24 h change, and a candle chart that moves. */
export function Market(props: { symbol: string; onSymbol(symbol: string): void }) {
  const { symbol } = props;
  const [interval, setBarInterval] = useState<Interval>('1m');
  const seconds = INTERVALS.find(([name]) => name === interval)?.[1] ?? 60;
  const tick = usePrice(symbol);
  const ticker = useLoad(
    () => call(() => api.GET('/api/v1/market/tickers/{symbol}', { params: { path: { symbol } } })),
    [symbol],
  );
  const candles = useLoad(
    () =>
      call(() =>
        api.GET('/api/v1/market/candles/{symbol}', {
          params: { path: { symbol }, query: { interval, limit: 200 } },
        }),
      ),
    [symbol, interval],
  );
  const history = useMemo(
    () =>
      (candles.data?.items ?? []).map((c: Candle) => ({
        time: toSeconds(c.open_time),
        open: c.open,
        high: c.high,
        low: c.low,
        close: c.close,
      })),
    [candles.data],
  );
  const bars = useMemo(() => history.map(toBar), [history]);
  const [last, setLast] = useState<LiveCandle | undefined>(undefined);
  useEffect(() => setLast(history.at(-1)), [history]);
  useEffect(() => {
    if (tick) setLast((current) => moveCandle(current, tick.price, toSeconds(tick.as_of), seconds));
  }, [tick, seconds]);

  const t = ticker.data;
  return (
    <Region title="Market" id="market" class="market">
      <div class="row">
        <SymbolField label="Search symbols" value={symbol} onChange={props.onSymbol} />
        <dl class="quote" aria-live="off">
          <Stat label="Last" value={fmt(tick?.price ?? t?.last)} />
          <Stat label="Bid" value={fmt(tick?.bid)} />
          <Stat label="Ask" value={fmt(tick?.ask)} />
          <Stat
            label="24 h change"
            value={t ? `${fmtSigned(t.price_change)} (${fmtSigned(t.price_change_percent, 2)} %)` : '—'}
            class={signClass(t?.price_change)}
          />
        </dl>
      </div>
      <ErrorText error={ticker.error ?? candles.error} />
      <fieldset class="segmented">
        <legend>Interval</legend>
        {INTERVALS.map(([name]) => (
          <label key={name}>
            <input
              type="radio"
              name="interval"
              checked={interval === name}
              onChange={() => setBarInterval(name)}
            />
            {name}
          </label>
        ))}
      </fieldset>
      <Chart label={`${symbol} ${interval} candles`} bars={bars} last={last ? toBar(last) : undefined} />
      <p class="caption" data-testid="last-candle">
        {last
          ? `Last candle (${new Date(last.time * 1000).toLocaleTimeString()}): open ${fmt(last.open)}, high ${fmt(last.high)}, low ${fmt(last.low)}, close ${fmt(last.close)}`
          : 'No candles yet'}
      </p>
    </Region>
  );
}

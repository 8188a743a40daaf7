import { useMemo, useState } from 'preact/hooks';
import { api, call, messageOf } from '../api/client';
import { Chart } from '../components/chart';
import { ErrorText, Region, Scroll, Stat } from '../components/region';
import { fmt, fmtSigned, fmtTime, signClass } from '../format';
import { useLoad } from '../hooks';
import { useSession } from '../session';
import { SymbolField } from './market';

/** History chart and statistics of one tracked crypto. */
function TrackedDetail(props: { symbol: string; version: number }) {
  const path = { params: { path: { symbol: props.symbol } } };
  const history = useLoad(
    () => call(() => api.GET('/api/v1/tracked/{symbol}/history', path)),
    [props.symbol, props.version],
  );
  const stats = useLoad(
    () => call(() => api.GET('/api/v1/tracked/{symbol}/stats', path)),
    [props.symbol, props.version],
  );
  const points = useMemo(() => {
    // One point per second at most (the chart needs strictly increasing times), oldest first.
    const bySecond = new Map<number, number>();
    for (const h of history.data?.history ?? [])
      bySecond.set(Math.floor(Date.parse(h.timestamp) / 1000), Number(h.price));
    return [...bySecond].sort((a, b) => a[0] - b[0]).map(([time, value]) => ({ time, value }));
  }, [history.data]);
  const s = stats.data?.stats;
  return (
    <div class="tracked-detail">
      <h3>{props.symbol}</h3>
      <ErrorText error={history.error ?? stats.error} />
      <Chart label={`${props.symbol} price history`} points={points} />
      {s ? (
        <dl class="totals">
          <Stat label="Minimum" value={fmt(s.min_price)} />
          <Stat label="Maximum" value={fmt(s.max_price)} />
          <Stat label="Average" value={fmt(s.avg_price)} />
          <Stat
            label="Change"
            value={`${fmtSigned(s.price_change)} (${fmtSigned(s.price_change_percent)} %)`}
            class={signClass(s.price_change)}
          />
          <Stat label="Records" value={s.records_count} />
        </dl>
      ) : null}
    </div>
  );
}

/** Tracked cryptos: the list, add, refresh, remove, and the history chart and statistics of one. */
export function Tracking() {
  const { toast } = useSession();
  const [version, setVersion] = useState(0);
  const [symbol, setSymbol] = useState('BTCUSDT');
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const list = useLoad(() => call(() => api.GET('/api/v1/tracked')), [version]);
  const bump = () => setVersion((n) => n + 1);
  const act = async (what: () => Promise<unknown>, done: string) => {
    setError(undefined);
    try {
      await what();
      toast(done, 'good');
      bump();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  const items = list.data?.items ?? [];
  return (
    <Region title="Tracked cryptos" id="tracking">
      <form
        class="inline"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          act(() => call(() => api.POST('/api/v1/tracked', { body: { symbol } })), `Tracking ${symbol}`);
        }}
      >
        <SymbolField label="Symbol to track" value={symbol} onChange={setSymbol} />
        <button type="submit">Track</button>
      </form>
      <ErrorText error={error ?? list.error} />
      {items.length === 0 ? (
        <p>Nothing tracked yet.</p>
      ) : (
        <Scroll label="Tracked table">
          <table>
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col">Name</th>
                <th scope="col" class="num">
                  Price
                </th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {items.map((t) => {
                const path = { params: { path: { symbol: t.symbol } } };
                return (
                  <tr key={t.symbol}>
                    <th scope="row">{t.symbol}</th>
                    <td>{t.name}</td>
                    <td class="num">{fmt(t.current_price)}</td>
                    <td>{fmtTime(t.last_updated)}</td>
                    <td class="actions">
                      <button
                        type="button"
                        aria-label={`Show ${t.symbol}`}
                        onClick={() => setSelected(t.symbol)}
                      >
                        Show
                      </button>
                      <button
                        type="button"
                        aria-label={`Refresh ${t.symbol}`}
                        onClick={() =>
                          act(
                            () => call(() => api.PUT('/api/v1/tracked/{symbol}/refresh', path)),
                            `${t.symbol} refreshed`,
                          )
                        }
                      >
                        Refresh
                      </button>
                      <button
                        type="button"
                        aria-label={`Remove ${t.symbol}`}
                        onClick={() => {
                          if (selected === t.symbol) setSelected(undefined);
                          act(
                            () => call(() => api.DELETE('/api/v1/tracked/{symbol}', path)),
                            `${t.symbol} removed`,
                          );
                        }}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Scroll>
      )}
      {selected ? <TrackedDetail symbol={selected} version={version} /> : null}
    </Region>
  );
}

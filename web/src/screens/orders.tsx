import { useState } from 'preact/hooks';
import { api, call, idempotencyKey, messageOf, type Order, type Position } from '../api/client';
import { ErrorText, LoadMore, Region, Scroll } from '../components/region';
import { fmt, fmtMoney, fmtSigned, fmtTime, sideLabel, signClass, typeLabel } from '../format';
import { useLoad, usePages, useSingleFlight } from '../hooks';
import { useSession } from '../session';

/** The user's orders, newest first, paged ("Load more"); new fills appear without a reload. */
export function Orders(props: { pageSize?: number }) {
  const { revision } = useSession();
  const limit = props.pageSize ?? 20;
  const pages = usePages<Order>(
    (cursor) =>
      call(() => api.GET('/api/v1/orders', { params: { query: { limit, ...(cursor ? { cursor } : {}) } } })),
    [revision, limit],
  );
  return (
    <Region title="Orders" id="orders" class="orders">
      <ErrorText error={pages.error} />
      {pages.items.length === 0 ? (
        <p>No orders yet.</p>
      ) : (
        <Scroll label="Orders table">
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Symbol</th>
                <th scope="col">Side</th>
                <th scope="col" class="num">
                  Quantity
                </th>
                <th scope="col">Type</th>
                <th scope="col" class="num">
                  Limit price
                </th>
                <th scope="col" class="num">
                  Avg fill price
                </th>
                <th scope="col" class="num">
                  Notional
                </th>
                <th scope="col" class="num">
                  Fee
                </th>
                <th scope="col">Status</th>
                <th scope="col" class="num">
                  Realized P&amp;L
                </th>
              </tr>
            </thead>
            <tbody>
              {pages.items.map((o) => (
                <tr key={o.id}>
                  <td>{fmtTime(o.created_at)}</td>
                  <td>{o.symbol}</td>
                  <td>
                    {sideLabel(o.side)}
                    {o.liquidation ? ' (liquidation)' : ''}
                  </td>
                  <td class="num">{fmt(o.quantity)}</td>
                  <td>{typeLabel(o.type)}</td>
                  <td class="num">{fmt(o.price)}</td>
                  <td class="num">{fmt(o.avg_fill_price)}</td>
                  <td class="num">{fmtMoney(o.notional)}</td>
                  <td class="num">{fmt(o.fee)}</td>
                  <td>{o.status}</td>
                  <td class={`num ${signClass(o.realized_pnl)}`}>{fmtSigned(o.realized_pnl)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
      <LoadMore pages={pages} what="orders" />
    </Region>
  );
}

/** Closes a short at market: a close_short order for its whole quantity. */
function CloseButton(props: { position: Position }) {
  const { toast } = useSession();
  const flight = useSingleFlight();
  const [key] = useState(idempotencyKey);
  const p = props.position;
  const close = () =>
    flight.run(async () => {
      try {
        await call(() =>
          api.POST('/api/v1/orders', {
            body: { wallet_id: p.wallet_id, symbol: p.symbol, side: 'close_short', quantity: p.quantity },
            headers: { 'Idempotency-Key': key },
          }),
        );
      } catch (e) {
        toast(messageOf(e), 'bad');
      }
    });
  return (
    <button type="button" disabled={flight.busy} aria-label={`Close short ${p.symbol}`} onClick={close}>
      Close
    </button>
  );
}

/** Open shorts: entry, mark, unrealized P&L, margin, liquidation price, and a close button. */
export function Positions() {
  const { revision, wallet } = useSession();
  const positions = useLoad(() => call(() => api.GET('/api/v1/positions')), [revision]);
  const shown = (positions.data?.items ?? []).filter((p) => !wallet || p.wallet_id === wallet.id);
  return (
    <Region title="Positions" id="positions" class="positions">
      <ErrorText error={positions.error} />
      {shown.length === 0 ? (
        <p>No open short positions.</p>
      ) : (
        <Scroll label="Positions table">
          <table>
            <thead>
              <tr>
                <th scope="col">Symbol</th>
                <th scope="col" class="num">
                  Quantity
                </th>
                <th scope="col" class="num">
                  Entry
                </th>
                <th scope="col" class="num">
                  Mark
                </th>
                <th scope="col" class="num">
                  Unrealized P&amp;L
                </th>
                <th scope="col" class="num">
                  Margin
                </th>
                <th scope="col" class="num">
                  Liquidation price
                </th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((p) => (
                <tr key={p.id}>
                  <th scope="row">{p.symbol}</th>
                  <td class="num">{fmt(p.quantity)}</td>
                  <td class="num">{fmt(p.entry_price)}</td>
                  <td class="num">{fmt(p.mark_price)}</td>
                  <td class={`num ${signClass(p.unrealized_pnl)}`}>{fmtSigned(p.unrealized_pnl)}</td>
                  <td class="num">{fmtMoney(p.margin)}</td>
                  <td class="num">{fmt(p.liquidation_price)}</td>
                  <td>
                    <CloseButton position={p} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </Region>
  );
}

import Decimal from 'decimal.js';
import { useState } from 'preact/hooks';
import { api, call, messageOf, type Order } from '../api/client';
import { ErrorText, Region, Scroll } from '../components/region';
import { describeOrder, fmt, fmtTime, isPositiveDecimal, sideLabel, typeLabel } from '../format';
import { useLoad, useSingleFlight } from '../hooks';
import { useSession } from '../session';
import { DecimalField } from './ticket';

/** The most open orders one read shows: the server's page limit (a wallet may hold 200). */
const OPEN_ORDERS_LIMIT_MAX = 100;

/** True when `next` is a decimal that differs from `current` ("45000" and "45000.00" are the same). */
function changed(next: string, current: string | null): boolean {
  return current === null || !new Decimal(next.trim()).eq(current);
}

/**
 * Edits a resting order: a cancel-replace (PATCH) of its limit price, stop price or quantity, only
 * the fields that changed. The server answers the new order; the stream says the old one canceled.
 */
function EditOrder(props: { order: Order; onDone(): void }) {
  const o = props.order;
  const [price, setPrice] = useState(o.price ?? '');
  const [stopPrice, setStopPrice] = useState(o.stop_price ?? '');
  const [quantity, setQuantity] = useState(o.quantity);
  const [error, setError] = useState<string | undefined>(undefined);
  const flight = useSingleFlight();
  const what = describeOrder(o);

  const save = (event: Event) => {
    event.preventDefault();
    const fields = [
      [o.price !== null, price, 'limit price'],
      [o.stop_price !== null, stopPrice, 'stop price'],
      [true, quantity, 'quantity'],
    ] as const;
    for (const [shown, value, name] of fields)
      if (shown && !isPositiveDecimal(value)) return setError(`Enter a positive ${name}`);
    const body = {
      ...(o.price !== null && changed(price, o.price) ? { price: price.trim() } : {}),
      ...(o.stop_price !== null && changed(stopPrice, o.stop_price) ? { stop_price: stopPrice.trim() } : {}),
      ...(changed(quantity, o.quantity) ? { quantity: quantity.trim() } : {}),
    };
    if (Object.keys(body).length === 0) return setError('Change the price, the stop price or the quantity');
    return flight.run(async () => {
      setError(undefined);
      try {
        await call(() =>
          api.PATCH('/api/v1/orders/{order_id}', { params: { path: { order_id: o.id } }, body }),
        );
        props.onDone();
      } catch (e) {
        setError(messageOf(e));
      }
    });
  };

  return (
    <form class="inline edit-order" aria-label={`Edit ${what}`} onSubmit={save} noValidate>
      {o.price !== null ? (
        <DecimalField label="New limit price" value={price} placeholder="" onInput={setPrice} />
      ) : null}
      {o.stop_price !== null ? (
        <DecimalField label="New stop price" value={stopPrice} placeholder="" onInput={setStopPrice} />
      ) : null}
      <DecimalField label="New quantity" value={quantity} placeholder="" onInput={setQuantity} />
      <button type="submit" class="primary" disabled={flight.busy} aria-busy={flight.busy}>
        Save changes
      </button>
      <button type="button" onClick={props.onDone}>
        Discard
      </button>
      <ErrorText error={error} />
    </form>
  );
}

/**
 * The wallet's resting orders (status open), read again on every account event (accepted,
 * triggered, filled, canceled, expired): Edit (cancel-replace), Cancel (an OCO leg cancels its
 * OCO), and Cancel all on the ticket's symbol.
 */
export function OpenOrders(props: { symbol: string }) {
  const { revision, wallet } = useSession();
  // Read again after an action of this screen too, without waiting for its event.
  const [reads, setReads] = useState(0);
  const reload = () => setReads((n) => n + 1);
  const open = useLoad(
    () =>
      call(() =>
        api.GET('/api/v1/orders', { params: { query: { status: 'open', limit: OPEN_ORDERS_LIMIT_MAX } } }),
      ),
    [revision, reads],
  );
  const [editing, setEditing] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const flight = useSingleFlight();
  const shown = (open.data?.items ?? []).filter((o) => !wallet || o.wallet_id === wallet.id);
  const onSymbol = shown.filter((o) => o.symbol === props.symbol);
  const edited = shown.find((o) => o.id === editing);

  const act = (action: () => Promise<unknown>) =>
    flight.run(async () => {
      setError(undefined);
      try {
        await action();
      } catch (e) {
        setError(messageOf(e));
      }
      reload();
    });
  const cancel = (o: Order) =>
    act(() => call(() => api.DELETE('/api/v1/orders/{order_id}', { params: { path: { order_id: o.id } } })));
  const cancelAll = () =>
    act(() =>
      call(() =>
        api.DELETE('/api/v1/orders', {
          params: { query: { symbol: props.symbol, ...(wallet ? { wallet_id: wallet.id } : {}) } },
        }),
      ),
    );

  return (
    <Region title="Open orders" id="open-orders" class="open-orders">
      <ErrorText error={open.error ?? error} />
      {shown.length === 0 ? (
        <p>{open.loading && !open.data ? 'Loading open orders…' : 'No open orders.'}</p>
      ) : (
        <Scroll label="Open orders table">
          <table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Symbol</th>
                <th scope="col">Side</th>
                <th scope="col">Type</th>
                <th scope="col" class="num">
                  Quantity
                </th>
                <th scope="col" class="num">
                  Limit price
                </th>
                <th scope="col" class="num">
                  Stop price
                </th>
                <th scope="col">Time in force</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((o) => {
                const what = describeOrder(o);
                return (
                  <tr key={o.id}>
                    <td>{fmtTime(o.created_at)}</td>
                    <th scope="row">{o.symbol}</th>
                    <td>{sideLabel(o.side)}</td>
                    <td>
                      {typeLabel(o.type)}
                      {o.order_list_id ? ' (OCO)' : ''}
                      {o.triggered_at ? ' (triggered)' : ''}
                    </td>
                    <td class="num">{fmt(o.quantity)}</td>
                    <td class="num">{fmt(o.price)}</td>
                    <td class="num">{fmt(o.stop_price)}</td>
                    <td>{o.time_in_force?.toUpperCase() ?? '—'}</td>
                    <td>
                      <div class="buttons">
                        {o.order_list_id ? null : (
                          <button
                            type="button"
                            aria-label={`Edit ${what}`}
                            aria-expanded={editing === o.id}
                            onClick={() => setEditing(editing === o.id ? undefined : o.id)}
                          >
                            Edit
                          </button>
                        )}
                        <button
                          type="button"
                          class="danger"
                          disabled={flight.busy}
                          aria-label={`Cancel ${o.order_list_id ? 'OCO of ' : ''}${what}`}
                          onClick={() => cancel(o)}
                        >
                          Cancel
                        </button>
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </Scroll>
      )}
      {edited ? (
        <EditOrder
          key={edited.id}
          order={edited}
          onDone={() => {
            setEditing(undefined);
            reload();
          }}
        />
      ) : null}
      {onSymbol.length > 0 ? (
        <button type="button" class="danger" disabled={flight.busy} onClick={cancelAll}>
          Cancel all on {props.symbol}
        </button>
      ) : null}
    </Region>
  );
}

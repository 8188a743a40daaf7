import Decimal from 'decimal.js';
import { useState } from 'preact/hooks';
import { api, call, idempotencyKey, messageOf, type OrderSide } from '../api/client';
import { ErrorText, Region, Stat } from '../components/region';
import { fmt, fmtMoney, isPositiveDecimal, sideLabel } from '../format';
import { usePrice, useSingleFlight } from '../hooks';
import { useSession } from '../session';
import { SymbolField } from './market';

const SIDES: OrderSide[] = ['buy', 'sell', 'short', 'close_short'];

/** What an order would cost before it is sent: the price it would fill at, its notional and fee. */
interface Estimate {
  price: string;
  quantity: string;
  notional: string;
  fee: string;
  margin: string | undefined;
}

function estimate(
  side: OrderSide,
  amount: string,
  inQuote: boolean,
  tick: { bid: string; ask: string } | undefined,
  fees: { taker_fee_rate: string; short_initial_margin_rate: string } | undefined,
): Estimate | undefined {
  if (!tick || !fees || !isPositiveDecimal(amount)) return undefined;
  // A buy (and a short's buy-back) pays the ask; a sell (and a short sale) gets the bid.
  const price = new Decimal(side === 'buy' || side === 'close_short' ? tick.ask : tick.bid);
  if (price.isZero()) return undefined;
  const notional = inQuote ? new Decimal(amount) : price.times(amount);
  const quantity = inQuote ? notional.dividedBy(price) : new Decimal(amount);
  return {
    price: price.toString(),
    quantity: quantity.toString(),
    notional: notional.toString(),
    fee: notional.times(fees.taker_fee_rate).toString(),
    margin: side === 'short' ? notional.times(fees.short_initial_margin_rate).toString() : undefined,
  };
}

/**
 * The order ticket: symbol, side (buy, sell, short, close short), quantity or quote amount, the
 * estimated price, notional and fee, then a market order. One Idempotency-Key per intended order:
 * a double click, or a retry after a lost answer, places it once.
 */
export function OrderTicket(props: { symbol: string; onSymbol(symbol: string): void }) {
  const { wallet, fees } = useSession();
  const [side, setSide] = useState<OrderSide>('buy');
  const [amount, setAmount] = useState('');
  const [inQuote, setInQuote] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const flight = useSingleFlight();
  const [placed, setPlaced] = useState<string | undefined>(undefined);
  const [key, setKey] = useState(idempotencyKey);
  const tick = usePrice(props.symbol);
  const est = estimate(side, amount, inQuote, tick, fees);
  const quote = fees?.quote_asset ?? 'USDT';

  const submit = (event: Event) => {
    event.preventDefault();
    if (!isPositiveDecimal(amount)) {
      setError(`Enter a positive ${inQuote ? 'quote amount' : 'quantity'}, e.g. 0.001`);
      return;
    }
    return flight.run(async () => {
      setError(undefined);
      setPlaced(undefined);
      try {
        const size = inQuote ? { quote_amount: amount.trim() } : { quantity: amount.trim() };
        const order = await call(() =>
          api.POST('/api/v1/orders', {
            body: { wallet_id: wallet?.id, symbol: props.symbol, side, ...size },
            headers: { 'Idempotency-Key': key },
          }),
        );
        setPlaced(
          `${sideLabel(order.side)} ${fmt(order.quantity)} ${order.symbol} ${order.status} at ${fmt(order.price)}`,
        );
        setAmount('');
        setKey(idempotencyKey());
      } catch (e) {
        setError(messageOf(e));
      }
    });
  };

  return (
    <Region title="Order ticket" id="ticket" class="ticket">
      <form onSubmit={submit} noValidate>
        <SymbolField label="Symbol" value={props.symbol} onChange={props.onSymbol} />
        <fieldset class="segmented sides">
          <legend>Side</legend>
          {SIDES.map((s) => (
            <label key={s} class={`side-${s}`}>
              <input type="radio" name="side" value={s} checked={side === s} onChange={() => setSide(s)} />
              {sideLabel(s)}
            </label>
          ))}
        </fieldset>
        <fieldset class="segmented">
          <legend>Size in</legend>
          <label>
            <input type="radio" name="size-in" checked={!inQuote} onChange={() => setInQuote(false)} />
            Base asset
          </label>
          <label>
            <input type="radio" name="size-in" checked={inQuote} onChange={() => setInQuote(true)} />
            Quote asset ({quote})
          </label>
        </fieldset>
        <label class="field">
          <span>{inQuote ? 'Quote amount' : 'Quantity'}</span>
          <input
            inputMode="decimal"
            autocomplete="off"
            value={amount}
            placeholder={inQuote ? '100' : '0.001'}
            onInput={(e) => {
              setAmount(e.currentTarget.value);
              setKey(idempotencyKey());
            }}
          />
        </label>
        <dl class="estimate" aria-label="Estimate">
          <Stat label="Estimated price" value={est ? fmt(est.price) : '—'} />
          <Stat label="Quantity" value={est ? fmt(est.quantity) : '—'} />
          <Stat label="Notional" value={est ? `${fmtMoney(est.notional)} ${quote}` : '—'} />
          <Stat label="Fee" value={est ? `${fmt(est.fee, 8)} ${quote}` : '—'} />
          {est?.margin ? <Stat label="Margin locked" value={`${fmtMoney(est.margin)} ${quote}`} /> : null}
        </dl>
        <ErrorText error={error} />
        <button type="submit" class="primary" disabled={flight.busy || !wallet} aria-busy={flight.busy}>
          Place order
        </button>
        <p role="status" class="caption">
          {placed ? `Last order: ${placed}` : ''}
        </p>
      </form>
    </Region>
  );
}

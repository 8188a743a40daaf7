import Decimal from 'decimal.js';
import { useState } from 'preact/hooks';
import {
  api,
  call,
  idempotencyKey,
  messageOf,
  type OrderSide,
  type OrderType,
  type TimeInForce,
} from '../api/client';
import { ErrorText, Region, Stat } from '../components/region';
import { describeOrder, fmt, fmtMoney, isPositiveDecimal, sideLabel, typeLabel } from '../format';
import { usePrice, useSingleFlight } from '../hooks';
import { useSession } from '../session';
import { SymbolField } from './market';

const SIDES: OrderSide[] = ['buy', 'sell', 'short', 'close_short'];
const TYPES: OrderType[] = [
  'market',
  'limit',
  'limit_maker',
  'stop_loss',
  'stop_loss_limit',
  'take_profit',
  'take_profit_limit',
];

// The fields each type takes, as the server's order-types.ts has them (it refuses any other mix).
/** The types with a limit price (`price`). */
function hasLimitPrice(type: OrderType): boolean {
  return (
    type === 'limit' || type === 'limit_maker' || type === 'stop_loss_limit' || type === 'take_profit_limit'
  );
}
/** The types that wait for a trigger (`stop_price`). */
function hasStopPrice(type: OrderType): boolean {
  return (
    type === 'stop_loss' ||
    type === 'stop_loss_limit' ||
    type === 'take_profit' ||
    type === 'take_profit_limit'
  );
}
/** The types that take a time in force. */
function takesTimeInForce(type: OrderType): boolean {
  return type === 'limit' || type === 'stop_loss_limit' || type === 'take_profit_limit';
}

const TIME_IN_FORCES: [TimeInForce, string][] = [
  ['gtc', 'Good till canceled (GTC)'],
  ['ioc', 'Immediate or cancel (IOC)'],
  ['fok', 'Fill or kill (FOK)'],
];

/** What an order would cost before it is sent: the price it would fill at, its notional and fee. */
interface Estimate {
  price: string;
  quantity: string;
  notional: string;
  fee: string;
  margin: string | undefined;
}

/**
 * The estimate at `limitOrStop` when the order has one (a limit fills at its price at best, a stop
 * near its trigger), else at the book: a buy (and a short's buy-back) pays the ask, a sell (and a
 * short sale) gets the bid.
 */
function estimate(
  side: OrderSide,
  amount: string,
  inQuote: boolean,
  limitOrStop: string | undefined,
  tick: { bid: string; ask: string } | undefined,
  fees: { taker_fee_rate: string; short_initial_margin_rate: string } | undefined,
): Estimate | undefined {
  if (!fees || !isPositiveDecimal(amount)) return undefined;
  let price: Decimal;
  if (limitOrStop !== undefined) {
    if (!isPositiveDecimal(limitOrStop)) return undefined;
    price = new Decimal(limitOrStop.trim());
  } else {
    if (!tick) return undefined;
    price = new Decimal(side === 'buy' || side === 'close_short' ? tick.ask : tick.bid);
  }
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

/** A decimal text field of the ticket (and of an open order's edit). */
export function DecimalField(props: {
  label: string;
  value: string;
  placeholder: string;
  onInput(value: string): void;
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        inputMode="decimal"
        autocomplete="off"
        value={props.value}
        placeholder={props.placeholder}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </label>
  );
}

/**
 * The order ticket: symbol, side (buy, sell, short, close short), one order of any type or an OCO,
 * the fields that type needs (limit price, stop price, time in force, shown only where they apply),
 * quantity or (market only) quote amount, the estimated price, notional and fee. One
 * Idempotency-Key per intended order: a double click, or a retry after a lost answer, places it once.
 */
export function OrderTicket(props: { symbol: string; onSymbol(symbol: string): void }) {
  const { wallet, fees, changed, refreshWallets } = useSession();
  const [side, setSide] = useState<OrderSide>('buy');
  const [oco, setOco] = useState(false);
  const [type, setType] = useState<OrderType>('market');
  const [amount, setAmount] = useState('');
  const [inQuoteChosen, setInQuote] = useState(false);
  const [price, setPrice] = useState('');
  const [stopPrice, setStopPrice] = useState('');
  const [stopLimitPrice, setStopLimitPrice] = useState('');
  const [timeInForce, setTimeInForce] = useState<TimeInForce>('gtc');
  const [error, setError] = useState<string | undefined>(undefined);
  const flight = useSingleFlight();
  const [placed, setPlaced] = useState<string | undefined>(undefined);
  const [key, setKey] = useState(idempotencyKey);
  const tick = usePrice(props.symbol);
  const quote = fees?.quote_asset ?? 'USDT';

  // What this ticket shows and sends: only the fields of the chosen type (or of an OCO).
  const market = !oco && type === 'market';
  const inQuote = market && inQuoteChosen;
  const showPrice = oco || hasLimitPrice(type);
  const showStop = oco || hasStopPrice(type);
  const showTimeInForce = oco ? stopLimitPrice.trim() !== '' : takesTimeInForce(type);
  const estimatePrice = showPrice ? price : showStop ? stopPrice : undefined;
  const est = estimate(side, amount, inQuote, estimatePrice, tick, fees);
  /** Any change of what would be sent is another intended order: a fresh key. */
  const edit = (set: (value: string) => void) => (value: string) => {
    set(value);
    setKey(idempotencyKey());
  };

  const check = (): string | undefined => {
    if (!isPositiveDecimal(amount))
      return `Enter a positive ${inQuote ? 'quote amount' : 'quantity'}, e.g. 0.001`;
    if (showPrice && !isPositiveDecimal(price)) return 'Enter a positive limit price, e.g. 45000';
    if (showStop && !isPositiveDecimal(stopPrice)) return 'Enter a positive stop price, e.g. 44000';
    if (oco && stopLimitPrice.trim() !== '' && !isPositiveDecimal(stopLimitPrice))
      return 'Enter a positive stop limit price, or leave it empty for a market stop';
    return undefined;
  };

  const send = async (): Promise<string> => {
    const headers = { 'Idempotency-Key': key };
    if (oco) {
      const list = await call(() =>
        api.POST('/api/v1/orders/oco', {
          body: {
            wallet_id: wallet?.id,
            symbol: props.symbol,
            side,
            quantity: amount.trim(),
            price: price.trim(),
            stop_price: stopPrice.trim(),
            ...(showTimeInForce
              ? { stop_limit_price: stopLimitPrice.trim(), time_in_force: timeInForce }
              : {}),
          },
          headers,
        }),
      );
      return `OCO ${list.orders.map(describeOrder).join(' / ')}`;
    }
    const size = inQuote ? { quote_amount: amount.trim() } : { quantity: amount.trim() };
    const order = await call(() =>
      api.POST('/api/v1/orders', {
        body: {
          wallet_id: wallet?.id,
          symbol: props.symbol,
          side,
          type,
          ...size,
          ...(showPrice ? { price: price.trim() } : {}),
          ...(showStop ? { stop_price: stopPrice.trim() } : {}),
          ...(showTimeInForce ? { time_in_force: timeInForce } : {}),
        },
        headers,
      }),
    );
    const filled = order.avg_fill_price ? ` at ${fmt(order.avg_fill_price)}` : '';
    return `${describeOrder(order)}: ${order.status === 'new' ? 'open' : order.status}${filled}`;
  };

  const submit = (event: Event) => {
    event.preventDefault();
    const refused = check();
    if (refused) {
      setError(refused);
      return;
    }
    return flight.run(async () => {
      setError(undefined);
      setPlaced(undefined);
      try {
        setPlaced(await send());
        setAmount('');
        setKey(idempotencyKey());
        // The open orders and balances show it now, whether or not its event arrives.
        changed();
        refreshWallets().catch(() => undefined);
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
              <input
                type="radio"
                name="side"
                value={s}
                checked={side === s}
                onChange={() => {
                  setSide(s);
                  setKey(idempotencyKey());
                }}
              />
              {sideLabel(s)}
            </label>
          ))}
        </fieldset>
        <fieldset class="segmented">
          <legend>Orders</legend>
          <label>
            <input type="radio" name="mode" checked={!oco} onChange={() => setOco(false)} />
            One order
          </label>
          <label>
            <input type="radio" name="mode" checked={oco} onChange={() => setOco(true)} />
            OCO (one cancels the other)
          </label>
        </fieldset>
        {oco ? (
          <p class="caption" id="oco-help">
            A limit leg at the limit price and a stop leg at the stop price: a sell’s limit above the market
            and its stop below, a buy’s the other way round. One filling cancels the other.
          </p>
        ) : (
          <label class="field">
            <span>Order type</span>
            <select
              value={type}
              onChange={(e) => {
                setType(e.currentTarget.value as OrderType);
                setKey(idempotencyKey());
              }}
            >
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {typeLabel(t)}
                </option>
              ))}
            </select>
          </label>
        )}
        {market ? (
          <fieldset class="segmented">
            <legend>Size in</legend>
            <label>
              <input
                type="radio"
                name="size-in"
                checked={!inQuoteChosen}
                onChange={() => setInQuote(false)}
              />
              Base asset
            </label>
            <label>
              <input type="radio" name="size-in" checked={inQuoteChosen} onChange={() => setInQuote(true)} />
              Quote asset ({quote})
            </label>
          </fieldset>
        ) : null}
        <DecimalField
          label={inQuote ? 'Quote amount' : 'Quantity'}
          value={amount}
          placeholder={inQuote ? '100' : '0.001'}
          onInput={edit(setAmount)}
        />
        {showPrice ? (
          <DecimalField
            label={`Limit price (${quote})`}
            value={price}
            placeholder="45000"
            onInput={edit(setPrice)}
          />
        ) : null}
        {showStop ? (
          <DecimalField
            label={`Stop price (${quote})`}
            value={stopPrice}
            placeholder="44000"
            onInput={edit(setStopPrice)}
          />
        ) : null}
        {oco ? (
          <DecimalField
            label={`Stop limit price (${quote}, optional)`}
            value={stopLimitPrice}
            placeholder="43900"
            onInput={edit(setStopLimitPrice)}
          />
        ) : null}
        {showTimeInForce ? (
          <label class="field">
            <span>Time in force</span>
            <select
              value={timeInForce}
              onChange={(e) => {
                setTimeInForce(e.currentTarget.value as TimeInForce);
                setKey(idempotencyKey());
              }}
            >
              {TIME_IN_FORCES.map(([value, words]) => (
                <option key={value} value={value}>
                  {words}
                </option>
              ))}
            </select>
          </label>
        ) : null}
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

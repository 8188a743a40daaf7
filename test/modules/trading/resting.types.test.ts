/**
 * Every resting type on every side: accepted, resting with its reservation locked, filled (or
 * triggered) at the right moment and price, with the right fee and ledger entries, and the ledger
 * sound after. Quantity 0.01 BTC throughout; fees are 0.1 % (maker and taker).
 */
import { describe, expect, it } from 'vitest';
import { Decimal, roundAmount } from '../../../src/shared/decimal.js';
import { expectLedgerSound, getWallet, postOrder, registerUser, useTestApp } from '../../helpers/app.js';
import { movePrice, placeOk, type TestQuote, waitForOrder } from '../../helpers/resting.js';

const t = useTestApp({ env: { PRICE_CACHE_TTL_MS: '0' }, jobs: true });

const START: TestQuote = { last: '60000', bid: '59999.99', ask: '60000' };
const DOWN: TestQuote = { last: '58900', bid: '58899.99', ask: '58900' };
const UP: TestQuote = { last: '61100', bid: '61100', ask: '61100.01' };
const QUANTITY = '0.01';

type Side = 'buy' | 'sell' | 'short' | 'close_short';
interface Case {
  side: Side;
  type: string;
  price?: string;
  stop_price?: string;
  /** the move that fills it */
  move: TestQuote;
  fillPrice: string;
  liquidity: 'maker' | 'taker';
  /** quote reserved (buy, short, close_short) or base (sell) */
  reserved: string;
}

const fee = (price: string) => roundAmount(new Decimal(price).times(QUANTITY).times('0.001'));
/** price × q + fee at 0.1 %, each rounded as the ledger rounds them */
const cost = (price: string) => roundAmount(new Decimal(price).times(QUANTITY)).plus(fee(price)).toFixed();
/** a short's reservation: half the notional as initial margin, plus the fee */
const margin = (price: string) =>
  roundAmount(new Decimal(price).times(QUANTITY).times('0.5')).plus(fee(price)).toFixed();
const stopBound = (stop: string) => new Decimal(stop).times('1.05').toFixed();

const buyLike = (side: 'buy' | 'close_short'): Case[] => [
  {
    side,
    type: 'limit',
    price: '59000',
    move: DOWN,
    fillPrice: '59000',
    liquidity: 'maker',
    reserved: cost('59000'),
  },
  {
    side,
    type: 'limit_maker',
    price: '59000',
    move: DOWN,
    fillPrice: '59000',
    liquidity: 'maker',
    reserved: cost('59000'),
  },
  // A buy's stop_loss fires as the price rises through it, and takes the ask.
  {
    side,
    type: 'stop_loss',
    stop_price: '61000',
    move: UP,
    fillPrice: '61100.01',
    liquidity: 'taker',
    reserved: cost(stopBound('61000')),
  },
  {
    side,
    type: 'stop_loss_limit',
    stop_price: '61000',
    price: '61200',
    move: UP,
    fillPrice: '61100.01',
    liquidity: 'taker',
    reserved: cost('61200'),
  },
  // A buy's take_profit fires as the price falls through it.
  {
    side,
    type: 'take_profit',
    stop_price: '59000',
    move: DOWN,
    fillPrice: '58900',
    liquidity: 'taker',
    reserved: cost(stopBound('59000')),
  },
  {
    side,
    type: 'take_profit_limit',
    stop_price: '59000',
    price: '59000',
    move: DOWN,
    fillPrice: '58900',
    liquidity: 'taker',
    reserved: cost('59000'),
  },
];
const sellLike = (side: 'sell' | 'short'): Case[] => {
  const reserve = (price: string) => (side === 'sell' ? QUANTITY : margin(price));
  return [
    {
      side,
      type: 'limit',
      price: '61000',
      move: UP,
      fillPrice: '61000',
      liquidity: 'maker',
      reserved: reserve('61000'),
    },
    {
      side,
      type: 'limit_maker',
      price: '61000',
      move: UP,
      fillPrice: '61000',
      liquidity: 'maker',
      reserved: reserve('61000'),
    },
    {
      side,
      type: 'stop_loss',
      stop_price: '59000',
      move: DOWN,
      fillPrice: '58899.99',
      liquidity: 'taker',
      reserved: reserve(stopBound('59000')),
    },
    {
      side,
      type: 'stop_loss_limit',
      stop_price: '59000',
      price: '58800',
      move: DOWN,
      fillPrice: '58899.99',
      liquidity: 'taker',
      reserved: reserve('58800'),
    },
    {
      side,
      type: 'take_profit',
      stop_price: '61000',
      move: UP,
      fillPrice: '61100',
      liquidity: 'taker',
      reserved: reserve(stopBound('61000')),
    },
    {
      side,
      type: 'take_profit_limit',
      stop_price: '61000',
      price: '61000',
      move: UP,
      fillPrice: '61100',
      liquidity: 'taker',
      reserved: reserve('61000'),
    },
  ];
};
const CASES: Case[] = [
  ...buyLike('buy'),
  ...sellLike('sell'),
  ...sellLike('short'),
  ...buyLike('close_short'),
];

/** What the wallet holds before the order: base bought for a sell, a short opened for a close_short. */
async function prepare(token: string, side: Side): Promise<void> {
  if (side === 'sell') await placeOk(t.app, token, { symbol: 'BTC', side: 'buy', quantity: QUANTITY });
  if (side === 'close_short')
    await placeOk(t.app, token, { symbol: 'BTC', side: 'short', quantity: QUANTITY });
}

describe('resting orders: every type on every side', () => {
  it.each(CASES)('$type $side: rests with its reservation, fills at $fillPrice ($liquidity)', async (c) => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    await prepare(token, c.side);
    const before = await getWallet(t.app, token, walletId);
    const lockedOf = (w: typeof before, asset: string) =>
      new Decimal(w.balances.find((b) => b.asset === asset)?.locked ?? 0);
    const availableOf = (w: typeof before, asset: string) =>
      new Decimal(w.balances.find((b) => b.asset === asset)?.available ?? 0);
    const reserveAsset = c.side === 'sell' ? 'BTC' : 'USDT';

    const placed = await placeOk(t.app, token, {
      symbol: 'BTC',
      side: c.side,
      type: c.type,
      quantity: QUANTITY,
      ...(c.price ? { price: c.price } : {}),
      ...(c.stop_price ? { stop_price: c.stop_price } : {}),
    });
    expect(placed).toMatchObject({
      status: 'new',
      type: c.type,
      filled_quantity: '0',
      fills: [],
      avg_fill_price: null,
    });
    const resting = await getWallet(t.app, token, walletId);
    expect(lockedOf(resting, reserveAsset).minus(lockedOf(before, reserveAsset)).toFixed()).toBe(c.reserved);
    expect(availableOf(before, reserveAsset).minus(availableOf(resting, reserveAsset)).toFixed()).toBe(
      c.reserved,
    );

    await movePrice(t.app, t.binance!, 'BTCUSDT', c.move);
    const filled = await waitForOrder(t.app, token, placed.id, (o) => o.status !== 'new');
    const expectedFee = fee(c.fillPrice).toFixed();
    expect(filled).toMatchObject({
      status: 'filled',
      avg_fill_price: c.fillPrice,
      filled_quantity: QUANTITY,
      notional: roundAmount(new Decimal(c.fillPrice).times(QUANTITY)).toFixed(),
      fee: expectedFee,
      fills: [{ price: c.fillPrice, quantity: QUANTITY, fee: expectedFee, liquidity: c.liquidity }],
    });
    if (c.stop_price) expect(filled.triggered_at).not.toBeNull();
    const after = await getWallet(t.app, token, walletId);
    const notional = roundAmount(new Decimal(c.fillPrice).times(QUANTITY));
    if (c.side === 'buy') {
      expect(availableOf(after, 'USDT').toFixed()).toBe(
        availableOf(before, 'USDT').minus(notional).minus(expectedFee).toFixed(),
      );
      expect(availableOf(after, 'BTC').toFixed()).toBe(availableOf(before, 'BTC').plus(QUANTITY).toFixed());
      expect(lockedOf(after, 'USDT').toFixed()).toBe('0');
    }
    if (c.side === 'sell') {
      expect(availableOf(after, 'USDT').toFixed()).toBe(
        availableOf(before, 'USDT').plus(notional).minus(expectedFee).toFixed(),
      );
      expect(availableOf(after, 'BTC').toFixed()).toBe('0');
      expect(lockedOf(after, 'BTC').toFixed()).toBe('0');
    }
    if (c.side === 'short') expect(filled.position_id).not.toBeNull();
    await expectLedgerSound(t.db);
  });

  it('a triggered stop_loss_limit whose limit the book has not reached rests at its price, then fills as the maker', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token } = await registerUser(t.app);
    await placeOk(t.app, token, { symbol: 'BTC', side: 'buy', quantity: QUANTITY });
    const placed = await placeOk(t.app, token, {
      symbol: 'BTC',
      side: 'sell',
      type: 'stop_loss_limit',
      stop_price: '59000',
      price: '58950',
      quantity: QUANTITY,
    });
    // The last trade is through the stop, but the bid is below the limit: triggered, resting.
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '58990', bid: '58900', ask: '58990' });
    const triggered = await waitForOrder(t.app, token, placed.id, (o) => o.triggered_at !== null);
    expect(triggered).toMatchObject({ status: 'new', fills: [] });
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '58960', bid: '58960', ask: '58960.01' });
    const filled = await waitForOrder(t.app, token, placed.id, (o) => o.status !== 'new');
    expect(filled).toMatchObject({
      status: 'filled',
      avg_fill_price: '58950',
      fills: [{ liquidity: 'maker' }],
    });
    await expectLedgerSound(t.db);
  });

  it('a triggered stop_loss_limit with IOC that cannot fill at once expires, its reservation given back', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    await placeOk(t.app, token, { symbol: 'BTC', side: 'buy', quantity: QUANTITY });
    const placed = await placeOk(t.app, token, {
      symbol: 'BTC',
      side: 'sell',
      type: 'stop_loss_limit',
      time_in_force: 'ioc',
      stop_price: '59000',
      price: '58950',
      quantity: QUANTITY,
    });
    // It rests until its trigger fires; only then does IOC apply.
    expect(placed).toMatchObject({ status: 'new', time_in_force: 'ioc' });
    await movePrice(t.app, t.binance!, 'BTCUSDT', { last: '58990', bid: '58900', ask: '58990' });
    const expired = await waitForOrder(t.app, token, placed.id, (o) => o.status !== 'new');
    expect(expired).toMatchObject({ status: 'expired', fills: [] });
    const btc = (await getWallet(t.app, token, walletId)).balances.find((b) => b.asset === 'BTC');
    expect(btc).toMatchObject({ available: QUANTITY, locked: '0' });
    await expectLedgerSound(t.db);
  });

  it('an order the book crosses when placed fills at once at the book, as the taker', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token } = await registerUser(t.app);
    const order = await placeOk(t.app, token, {
      symbol: 'BTC',
      side: 'buy',
      type: 'limit',
      price: '60500',
      quantity: QUANTITY,
    });
    expect(order).toMatchObject({
      status: 'filled',
      price: '60500',
      avg_fill_price: '60000',
      fee: '0.6',
      fills: [{ price: '60000', liquidity: 'taker' }],
    });
  });

  it('IOC and FOK limits that cannot fill at once expire and move nothing; marketable ones fill', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    const before = await getWallet(t.app, token, walletId);
    for (const tif of ['ioc', 'fok']) {
      const order = await placeOk(t.app, token, {
        symbol: 'BTC',
        side: 'buy',
        type: 'limit',
        time_in_force: tif,
        price: '59000',
        quantity: QUANTITY,
      });
      expect(order).toMatchObject({ status: 'expired', fills: [], filled_quantity: '0' });
    }
    expect(await getWallet(t.app, token, walletId)).toEqual(before);
    const taken = await placeOk(t.app, token, {
      symbol: 'BTC',
      side: 'buy',
      type: 'limit',
      time_in_force: 'fok',
      price: '60000',
      quantity: QUANTITY,
    });
    expect(taken).toMatchObject({
      status: 'filled',
      avg_fill_price: '60000',
      fills: [{ liquidity: 'taker' }],
    });
  });

  it('refuses what Binance refuses: a limit_maker that would take, an off-tick price, a stop that would trigger, missing prices', async () => {
    await movePrice(t.app, t.binance!, 'BTCUSDT', START);
    const { token, walletId } = await registerUser(t.app);
    const before = await getWallet(t.app, token, walletId);
    const refusals: [Record<string, unknown>, number, string][] = [
      [{ type: 'limit_maker', side: 'buy', price: '60000' }, 422, 'WOULD_MATCH_IMMEDIATELY'],
      [{ type: 'limit', side: 'buy', price: '59000.001' }, 422, 'FILTER_FAILURE'],
      [{ type: 'stop_loss', side: 'buy', stop_price: '59000.005' }, 422, 'FILTER_FAILURE'],
      [{ type: 'limit', side: 'buy', price: '2000000' }, 422, 'FILTER_FAILURE'],
      [{ type: 'stop_loss', side: 'sell', stop_price: '60500' }, 422, 'WOULD_TRIGGER_IMMEDIATELY'],
      [{ type: 'take_profit', side: 'buy', stop_price: '60500' }, 422, 'WOULD_TRIGGER_IMMEDIATELY'],
      [{ type: 'limit', side: 'buy' }, 422, 'VALIDATION_ERROR'],
      [{ type: 'stop_loss_limit', side: 'buy', price: '61000' }, 422, 'VALIDATION_ERROR'],
      [{ type: 'market', side: 'buy', price: '61000' }, 422, 'VALIDATION_ERROR'],
      [
        { type: 'stop_loss', side: 'buy', stop_price: '61000', time_in_force: 'ioc' },
        422,
        'VALIDATION_ERROR',
      ],
      [
        { type: 'limit', side: 'buy', price: '59000', quantity: undefined, quote_amount: '100' },
        422,
        'VALIDATION_ERROR',
      ],
      [{ type: 'limit', side: 'buy', price: '100' }, 422, 'FILTER_FAILURE'],
      [{ type: 'limit', side: 'buy', price: '59000', quantity: '1' }, 400, 'INSUFFICIENT_FUNDS'],
      [{ type: 'limit', side: 'close_short', price: '59000' }, 409, 'NO_OPEN_SHORT'],
    ];
    for (const [fields, status, code] of refusals) {
      const res = await postOrder(t.app, token, { symbol: 'BTC', quantity: QUANTITY, ...fields });
      expect([res.statusCode, res.json().error?.code], JSON.stringify(fields)).toEqual([status, code]);
    }
    const res = await postOrder(t.app, token, {
      symbol: 'BTC',
      side: 'buy',
      type: 'limit',
      price: '59000.001',
      quantity: QUANTITY,
    });
    expect(res.json().error.details).toMatchObject({
      filter: 'PRICE_FILTER',
      field: 'price',
      tickSize: '0.01',
    });
    expect(await getWallet(t.app, token, walletId)).toEqual(before);
  });
});

import { useState } from 'preact/hooks';
import { api, call, idempotencyKey, messageOf } from '../api/client';
import { ErrorText, Region } from '../components/region';
import { fmt, isPositiveDecimal } from '../format';
import { useSingleFlight } from '../hooks';
import { useSession } from '../session';

/** Deposit or withdraw paper money (one Idempotency-Key per intended operation). */
function WalletOperation(props: { walletId: string; asset: string }) {
  const { toast, refreshWallets } = useSession();
  const [amount, setAmount] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const flight = useSingleFlight();
  const [key, setKey] = useState(idempotencyKey);

  const send = (type: 'DEPOSIT' | 'WITHDRAW') => {
    if (!isPositiveDecimal(amount)) {
      setError('Enter a positive amount, e.g. 100');
      return;
    }
    return flight.run(async () => {
      setError(undefined);
      try {
        await call(() =>
          api.POST('/api/v1/wallets/{wallet_id}/operation', {
            params: { path: { wallet_id: props.walletId } },
            body: { operation_type: type, amount: amount.trim(), asset: props.asset },
            headers: { 'Idempotency-Key': key },
          }),
        );
        toast(`${type === 'DEPOSIT' ? 'Deposited' : 'Withdrew'} ${amount.trim()} ${props.asset}`, 'good');
        setAmount('');
        setKey(idempotencyKey());
        await refreshWallets();
      } catch (e) {
        setError(messageOf(e));
      }
    });
  };

  return (
    <form class="inline" onSubmit={(e) => e.preventDefault()} noValidate>
      <label class="field">
        <span>Amount ({props.asset})</span>
        <input
          inputMode="decimal"
          value={amount}
          onInput={(e) => {
            setAmount(e.currentTarget.value);
            setKey(idempotencyKey());
          }}
        />
      </label>
      <button type="button" disabled={flight.busy} onClick={() => send('DEPOSIT')}>
        Deposit
      </button>
      <button type="button" disabled={flight.busy} onClick={() => send('WITHDRAW')}>
        Withdraw
      </button>
      <ErrorText error={error} />
    </form>
  );
}

/** Creates another wallet of the user. */
function CreateWallet() {
  const { toast, refreshWallets, selectWallet } = useSession();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const wallet = await call(() => api.POST('/api/v1/wallets', { body: { name: name.trim() } }));
      toast(`Wallet “${wallet.name}” created`, 'good');
      setName('');
      await refreshWallets();
      selectWallet(wallet.id);
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <form class="inline" onSubmit={create} noValidate>
      <label class="field">
        <span>Wallet name</span>
        <input value={name} maxLength={100} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <button type="submit">Create wallet</button>
      <ErrorText error={error} />
    </form>
  );
}

/** The wallet picker and the selected wallet's balances per asset (available and locked). */
export function Balances() {
  const { wallets, wallet, selectWallet, fees } = useSession();
  return (
    <Region title="Balances" id="balances" class="balances">
      <label class="field">
        <span>Wallet</span>
        <select value={wallet?.id} onChange={(e) => selectWallet(e.currentTarget.value)}>
          {wallets.map((w) => (
            <option key={w.id} value={w.id}>
              {w.name}
              {w.is_default ? ' (default)' : ''}
            </option>
          ))}
        </select>
      </label>
      {wallet ? (
        <table>
          <caption class="sr-only">Balances of {wallet.name}</caption>
          <thead>
            <tr>
              <th scope="col">Asset</th>
              <th scope="col" class="num">
                Available
              </th>
              <th scope="col" class="num">
                Locked
              </th>
            </tr>
          </thead>
          <tbody>
            {wallet.balances.map((b) => (
              <tr key={b.asset} data-asset={b.asset}>
                <th scope="row">{b.asset}</th>
                <td class="num">{fmt(b.available)}</td>
                <td class="num">{fmt(b.locked)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p>Loading wallets…</p>
      )}
      {wallet ? <WalletOperation walletId={wallet.id} asset={fees?.quote_asset ?? 'USDT'} /> : null}
      <CreateWallet />
    </Region>
  );
}

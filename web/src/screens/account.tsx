import { useState } from 'preact/hooks';
import { api, call, messageOf } from '../api/client';
import { ErrorText, PasswordField, Region } from '../components/region';
import { fmtTime } from '../format';
import { useSession } from '../session';

function ChangePassword() {
  const { toast } = useSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      await call(() =>
        api.PUT('/api/v1/users/me/password', { body: { current_password: current, new_password: next } }),
      );
      toast('Password changed', 'good');
      setCurrent('');
      setNext('');
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <h3>Change password</h3>
      <PasswordField
        label="Current password"
        autocomplete="current-password"
        value={current}
        onInput={setCurrent}
      />
      <PasswordField label="New password" autocomplete="new-password" value={next} onInput={setNext} />
      <ErrorText error={error} />
      <button type="submit">Change password</button>
    </form>
  );
}

function DeleteAccount(props: { onDeleted(): void }) {
  const [password, setPassword] = useState('');
  const [sure, setSure] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      await call(() => api.DELETE('/api/v1/users/me', { body: { current_password: password } }));
      props.onDeleted();
    } catch (e) {
      setError(messageOf(e));
    }
  };
  return (
    <form onSubmit={submit} noValidate>
      <h3>Delete account</h3>
      <p>Deleting the account removes its wallets and history. It cannot be undone.</p>
      <PasswordField
        label="Password to confirm"
        autocomplete="current-password"
        value={password}
        onInput={setPassword}
      />
      <label class="check">
        <input type="checkbox" checked={sure} onChange={(e) => setSure(e.currentTarget.checked)} />I
        understand this cannot be undone
      </label>
      <ErrorText error={error} />
      <button type="submit" class="danger" disabled={!sure}>
        Delete account
      </button>
    </form>
  );
}

/** The account: who is signed in, change password, delete the account. */
export function Account(props: { onDeleted(): void }) {
  const { user } = useSession();
  return (
    <Region title="Account" id="account">
      <p>
        Signed in as <strong>{user.username}</strong> since {fmtTime(user.created_at)}.
      </p>
      <ChangePassword />
      <DeleteAccount onDeleted={props.onDeleted} />
    </Region>
  );
}

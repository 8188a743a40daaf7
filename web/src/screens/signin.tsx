import { useState } from 'preact/hooks';
import { api, call, messageOf, type User } from '../api/client';
import { ErrorText, PasswordField } from '../components/region';

/**
 * Sign in or create an account. The server sets the HttpOnly session cookie; the tokens in its
 * answer are dropped, never stored (no token in localStorage or the DOM).
 */
export function SignIn(props: { onSignedIn(user: User): void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  const run = async (mode: 'signin' | 'register') => {
    if (busy) return;
    setBusy(true);
    setError(undefined);
    try {
      const body = { username: username.trim(), password };
      if (mode === 'register') await call(() => api.POST('/api/v1/auth/register', { body }));
      else await call(() => api.POST('/api/v1/auth/login', { body }));
      props.onSignedIn(await call(() => api.GET('/api/v1/users/me')));
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin">
      <h1>paperbroker</h1>
      <p>Paper trading at live prices: 10,000 USDT of paper money to start.</p>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          run('signin');
        }}
      >
        <label class="field">
          <span>Username</span>
          <input
            autocomplete="username"
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <PasswordField
          label="Password"
          autocomplete="current-password"
          value={password}
          onInput={setPassword}
        />
        <ErrorText error={error} />
        <div class="buttons">
          <button type="submit" class="primary" disabled={busy}>
            Sign in
          </button>
          <button type="button" disabled={busy} onClick={() => run('register')}>
            Create account
          </button>
        </div>
      </form>
    </main>
  );
}

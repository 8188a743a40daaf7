import { useSession } from '../session';

/** The toasts of account events and actions: a polite live region, so a screen reader says them. */
export function Toasts() {
  const { toasts } = useSession();
  return (
    <div class="toasts" role="status" aria-live="polite" aria-label="Notifications">
      {toasts.map((t) => (
        <p key={t.id} class={`toast ${t.tone}`}>
          {t.text}
        </p>
      ))}
    </div>
  );
}

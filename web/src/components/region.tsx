import type { ComponentChildren } from 'preact';

/** A labelled region (a landmark screen readers and tests find by its name), its title an h2. */
export function Region(props: { title: string; id: string; class?: string; children: ComponentChildren }) {
  const heading = `${props.id}-title`;
  return (
    <section aria-labelledby={heading} class={`panel ${props.class ?? ''}`}>
      <h2 id={heading}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** An error of the server, said in words (read out at once by screen readers). */
export function ErrorText(props: { error: string | undefined }) {
  return props.error ? (
    <p role="alert" class="error">
      {props.error}
    </p>
  ) : null;
}

/** A table wider than a phone scrolls sideways; it takes focus so the keyboard can scroll it too. */
export function Scroll(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard (axe scrollable-region-focusable)
    <div class="scroll" tabIndex={0} data-label={props.label}>
      {props.children}
    </div>
  );
}

/** The "Load more" button of a paged list, shown while the server says more pages exist. */
export function LoadMore(props: { pages: { hasMore: boolean; more(): void }; what: string }) {
  return props.pages.hasMore ? (
    <button type="button" onClick={props.pages.more}>
      Load more {props.what}
    </button>
  ) : null;
}

/** One figure of a summary (a `<dl>` item): its name, its value, its sign's class. */
export function Stat(props: { label: string; value: string | number; class?: string | undefined }) {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd class={props.class}>{props.value}</dd>
    </div>
  );
}

/** A password field: labelled, masked, with the browser's password manager hint. */
export function PasswordField(props: {
  label: string;
  autocomplete: 'current-password' | 'new-password';
  value: string;
  onInput(value: string): void;
}) {
  return (
    <label class="field">
      <span>{props.label}</span>
      <input
        type="password"
        autocomplete={props.autocomplete}
        value={props.value}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
    </label>
  );
}

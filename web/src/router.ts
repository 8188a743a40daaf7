import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<(path: string) => void>();

/** Goes to a screen of the terminal without a reload (the server answers the same shell at each path). */
export function navigate(path: string): void {
  if (path === window.location.pathname) return;
  window.history.pushState(null, '', path);
  for (const listener of listeners) listener(path);
}

/** The current path, kept up to date with `navigate` and the back button. */
export function usePath(): string {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const onPop = () => setPath(window.location.pathname);
    listeners.add(setPath);
    window.addEventListener('popstate', onPop);
    return () => {
      listeners.delete(setPath);
      window.removeEventListener('popstate', onPop);
    };
  }, []);
  return path;
}

'use client';
import { useCallback } from 'react';
import { usePathname, useSearchParams } from 'next/navigation';

/**
 * A view's state kept in its URL's query, so a reload or a pasted link shows the same thing. `set` replaces the
 * entry (no history entry per keystroke) and drops parameters set to '' or undefined. It goes through the History API,
 * which Next's router follows (useSearchParams sees the change) without asking the server for the page again.
 */
export function useUrlState(): {
  params: URLSearchParams;
  get: (name: string) => string;
  /** The parameter as the URL holds it this instant (a handler may run before the render that set it). */
  now: (name: string) => string;
  set: (changes: Record<string, string | number | boolean | undefined | null>) => void;
} {
  const search = useSearchParams();
  const path = usePathname();
  const set = useCallback(
    (changes: Record<string, string | number | boolean | undefined | null>) => {
      // The URL as it is now (another set in the same tick may have changed it since this render).
      const next = new URLSearchParams(window.location.search);
      for (const [k, v] of Object.entries(changes)) {
        if (v === undefined || v === null || v === '' || v === false) next.delete(k);
        else next.set(k, String(v));
      }
      const q = next.toString();
      window.history.replaceState(null, '', q ? `${path}?${q}` : path);
    },
    [path],
  );
  const params = new URLSearchParams(search.toString());
  return {
    params,
    get: (name) => search.get(name) ?? '',
    now: (name) => new URLSearchParams(window.location.search).get(name) ?? '',
    set,
  };
}

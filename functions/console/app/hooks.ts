import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { api, type Query } from './api.js';
import type { LiveFeed } from './live.js';

export interface AppContextValue {
  feed: LiveFeed;
  role: 'client' | 'admin';
  /** The signed-in client's id (client token), null for the admin. */
  ownClientId: string | null;
  /** Ticks every 15 s so ages ("2 min ago") stay true. */
  now: number;
  toast: (message: string, kind?: 'ok' | 'error') => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('AppContext missing');
  return ctx;
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/**
 * GETs `path` (null = wait), refetches when the path or query changes, and when the live feed
 * reports a change to one of `topics` (debounced, so a burst of events is one refetch).
 */
export function useApi<T>(path: string | null, query: Query = {}, topics: string[] = []): Loaded<T> {
  const { feed } = useApp();
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const key = path === null ? null : JSON.stringify([path, query]);
  const seq = useRef(0);
  const load = useCallback(() => {
    if (path === null) return;
    const mine = ++seq.current;
    setState((s) => ({ ...s, loading: true }));
    api.get<T>(path, query).then(
      (data) => mine === seq.current && setState({ data, error: undefined, loading: false }),
      (error: unknown) => mine === seq.current && setState((s) => ({ data: s.data, error, loading: false })),
    );
  }, [key]);
  useEffect(() => {
    setState({ data: undefined, error: undefined, loading: true });
    load();
  }, [load]);
  useEffect(() => {
    if (topics.length === 0) return undefined;
    let timer: number | undefined;
    const off = feed.subscribe((changed) => {
      if (!topics.some((t) => changed.has(t))) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(load, 300);
    });
    return () => {
      off();
      window.clearTimeout(timer);
    };
  }, [feed, load, topics.join(',')]);
  return { ...state, reload: load };
}

/** A list route with `nextToken`: the first page, then "Load more" appends the next one. */
export function usePaged<T>(path: string | null, listKey: string, query: Query = {}, topics: string[] = []) {
  const first = useApi<Record<string, unknown>>(path, query, topics);
  const [more, setMore] = useState<{ rows: T[]; token: string | null | undefined; loading: boolean; error: unknown }>({ rows: [], token: undefined, loading: false, error: undefined });
  useEffect(() => setMore({ rows: [], token: undefined, loading: false, error: undefined }), [first.data]);
  const firstRows = (first.data?.[listKey] as T[] | undefined) ?? [];
  const token = more.token === undefined ? ((first.data?.nextToken as string | null | undefined) ?? null) : more.token;
  const loadMore = () => {
    if (!path || !token) return;
    setMore((m) => ({ ...m, loading: true }));
    api.get<Record<string, unknown>>(path, { ...query, nextToken: token }).then(
      (page) => setMore((m) => ({ rows: [...m.rows, ...((page[listKey] as T[]) ?? [])], token: (page.nextToken as string | null) ?? null, loading: false, error: undefined })),
      (error: unknown) => setMore((m) => ({ ...m, loading: false, error })),
    );
  };
  return { ...first, rows: [...firstRows, ...more.rows], hasMore: Boolean(token), loadMore, loadingMore: more.loading, moreError: more.error };
}

/** Shared pieces of every page: states, times, money, sortable tables, dialogs, cards. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText } from './api.js';
import { age, DASH, localTime, money, utcTitle } from './format.js';
import { useApp, type usePaged } from './hooks.js';
import { type SortDir, sortRows } from './model.js';

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <p class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {what}…
    </p>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  return (
    <div class="state error" role="alert">
      <span>{errorText(error)}</span>
      {retry && (
        <button type="button" class="link" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="state empty">{children}</p>;
}

/** Renders the usual three states around `data`. */
export function Async<T>({ loaded, children, what }: { loaded: { data: T | undefined; error: unknown; loading: boolean; reload: () => void }; children: (data: T) => ComponentChildren; what?: string }) {
  if (loaded.data !== undefined) {
    return (
      <>
        {loaded.error !== undefined && <ErrorBox error={loaded.error} retry={loaded.reload} />}
        {children(loaded.data)}
      </>
    );
  }
  if (loaded.error !== undefined) return <ErrorBox error={loaded.error} retry={loaded.reload} />;
  return <Loading {...(what ? { what } : {})} />;
}

/** A time in the browser's zone; hovering shows the UTC instant. `ago` shows the age instead. */
export function Time({ at, ago, short }: { at: string | null | undefined; ago?: boolean; short?: boolean }) {
  const { now } = useApp();
  if (!at) return <span class="muted">{DASH}</span>;
  return (
    <time dateTime={at} title={`${utcTitle(at)} · ${localTime(at)}`}>
      {ago ? age(at, now) : localTime(at, { short: short ?? false })}
    </time>
  );
}

export const Money = ({ value, hourly }: { value: number | null | undefined; hourly?: boolean }) => (
  <span class={`num${typeof value === 'number' && value < 0 ? ' negative' : ''}`}>{money(value, { hourly: hourly ?? false })}</span>
);

export function Badge({ value, tone }: { value: string; tone?: string }) {
  return <span class={`badge ${tone ?? toneOf(value)}`}>{value.replace(/_/g, ' ')}</span>;
}

const TONES: Record<string, string> = {
  online: 'good', active: 'good', healthy: 'good', completed: 'good', promoted: 'good', ready: 'good', PRIMARY: 'good', spot: 'good', ok: 'good', handled: 'good',
  switching: 'info', pending: 'info', acknowledged: 'info', executing: 'info', syncing: 'info', launching: 'info', REPLICA: 'info', info: 'info', open: 'warn', rebalance: 'warn',
  offline: 'warn', degraded: 'warn', warning: 'warn', ZOMBIE: 'warn', ondemand: 'neutral', expired: 'warn', cancelled: 'neutral', disabled: 'neutral', inactive: 'neutral', TERMINATED: 'neutral', terminated: 'neutral',
  error: 'bad', failed: 'bad', critical: 'bad', no_replica: 'bad', unhealthy: 'bad', deleted: 'neutral', termination: 'bad', stale: 'warn',
};
const toneOf = (v: string) => TONES[v] ?? 'neutral';

export interface Column<T> {
  key: string;
  label: string;
  value?: (row: T) => unknown;
  render?: (row: T) => ComponentChildren;
  numeric?: boolean;
  sortable?: boolean;
}

/**
 * A sortable table of the rows loaded so far (click or Enter on a header); `onMore` loads the
 * API's next page (nextToken). Wide tables scroll sideways inside their card on narrow screens.
 */
export interface TableProps<T> {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  caption: string;
  onMore?: () => void;
  hasMore?: boolean;
  loadingMore?: boolean;
  empty?: ComponentChildren;
  initialSort?: { key: string; dir: SortDir };
  select?: { selected: Set<string>; toggle: (id: string) => void; toggleAll: (ids: string[]) => void };
}

export function Table<T>({ columns, rows, rowKey, caption, onMore, hasMore, loadingMore, empty, initialSort, select }: TableProps<T>) {
  const [sort, setSort] = useState<{ key: string; dir: SortDir } | undefined>(initialSort);
  const column = columns.find((c) => c.key === sort?.key);
  const sorted = sort && column ? sortRows(rows, column.value ?? ((r) => (r as Record<string, unknown>)[column.key]), sort.dir) : rows;
  const by = (c: Column<T>) => setSort((s) => ({ key: c.key, dir: s?.key === c.key && s.dir === 'asc' ? 'desc' : s?.key === c.key ? 'asc' : c.numeric ? 'desc' : 'asc' }));
  if (rows.length === 0) return <Empty>{empty ?? 'Nothing to show yet.'}</Empty>;
  const ids = rows.map(rowKey);
  return (
    <div class="table-wrap">
      <table>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {select && (
              <th scope="col" class="check">
                <input type="checkbox" aria-label="Select all rows" checked={ids.every((id) => select.selected.has(id))} onChange={() => select.toggleAll(ids)} />
              </th>
            )}
            {columns.map((c) => {
              const active = sort?.key === c.key;
              const aria = active ? (sort?.dir === 'asc' ? 'ascending' : 'descending') : 'none';
              return (
                <th key={c.key} scope="col" class={c.numeric ? 'num' : ''} aria-sort={c.sortable === false ? undefined : aria}>
                  {c.sortable === false ? (
                    c.label
                  ) : (
                    <button type="button" class="sort" onClick={() => by(c)}>
                      {c.label}
                      <span aria-hidden="true" class="arrow">{active ? (sort?.dir === 'asc' ? '▲' : '▼') : '↕'}</span>
                    </button>
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => {
            const id = rowKey(row);
            return (
              <tr key={id}>
                {select && (
                  <td class="check">
                    <input type="checkbox" aria-label={`Select ${id}`} checked={select.selected.has(id)} onChange={() => select.toggle(id)} />
                  </td>
                )}
                {columns.map((c) => (
                  <td key={c.key} class={c.numeric ? 'num' : ''}>
                    {c.render ? c.render(row) : String((c.value ?? ((r: T) => (r as Record<string, unknown>)[c.key]))(row) ?? DASH)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
      {hasMore && onMore && (
        <div class="more">
          <button type="button" onClick={onMore} disabled={loadingMore}>
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </div>
  );
}

/** A listing loaded page by page (hooks.ts usePaged). */
export type PagedList<T> = ReturnType<typeof usePaged<T>>;

/** A paged listing as a table: its loading and error states, then its rows with "Load more". */
export function PagedTable<T>({ list, ...table }: { list: PagedList<T> } & Omit<TableProps<T>, 'rows' | 'hasMore' | 'onMore' | 'loadingMore'>) {
  return <Async loaded={list}>{() => <Table {...table} rows={list.rows} hasMore={list.hasMore} onMore={list.loadMore} loadingMore={list.loadingMore} />}</Async>;
}

export function Card({ title, children, actions, class: cls }: { title?: string; children: ComponentChildren; actions?: ComponentChildren; class?: string }) {
  return (
    <section class={`card ${cls ?? ''}`} aria-label={title}>
      {(title || actions) && (
        <header class="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div class="actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Stat({ label, value, hint, testId }: { label: string; value: ComponentChildren; hint?: ComponentChildren; testId?: string }) {
  return (
    <div class="stat" data-testid={testId}>
      <div class="stat-label">{label}</div>
      <div class="stat-value">{value}</div>
      {hint && <div class="stat-hint">{hint}</div>}
    </div>
  );
}

/** A modal dialog (native <dialog>: focus trapped, Escape closes). */
export function Dialog({ title, open, onClose, children }: { title: string; open: boolean; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} aria-label={title}>
      <h2>{title}</h2>
      {open && children}
    </dialog>
  );
}

export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      {children}
      {hint && <span class="field-hint">{hint}</span>}
    </label>
  );
}

export const PageTitle = ({ children, sub }: { children: ComponentChildren; sub?: ComponentChildren }) => (
  <div class="page-title">
    <h1>{children}</h1>
    {sub && <p class="sub">{sub}</p>}
  </div>
);

export function Select({ label, value, options, onChange }: { label: string; value: string; options: Array<[string, string]>; onChange: (v: string) => void }) {
  return (
    <label class="inline-field">
      <span>{label}</span>
      <select value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * View logic that aggregates what the API returns (pure; unit-tested in node): chart series,
 * sorting, fleet counts, the live-state machine of the events poll.
 */

export interface DailySavingsRow {
  date: string;
  savings: number;
  ondemand_cost: number;
  actual_cost: number;
  cumulative_savings: number;
}

/** uPlot's columnar data for the savings chart: x = UTC midnight (s), daily bars, cumulative line, baseline, paid. */
export function savingsSeries(rows: readonly DailySavingsRow[]): [number[], number[], number[], number[], number[]] {
  const x: number[] = [];
  const daily: number[] = [];
  const cumulative: number[] = [];
  const baseline: number[] = [];
  const paid: number[] = [];
  for (const r of rows) {
    x.push(Date.parse(`${r.date}T00:00:00Z`) / 1000);
    daily.push(r.savings);
    cumulative.push(r.cumulative_savings);
    baseline.push(r.ondemand_cost);
    paid.push(r.actual_cost);
  }
  return [x, daily, cumulative, baseline, paid];
}

export interface PricePoint {
  time: string;
  on_demand: number | null;
  prices: Record<string, number | null | undefined>;
}

/**
 * uPlot data for an instance's price history: x, on-demand, then the current pool, then the
 * alternatives (at most `maxAlternatives`, cheapest on average first). Missing points are null (gaps).
 */
export function priceSeries(
  points: readonly PricePoint[],
  currentPool: string | null,
  maxAlternatives = 4,
): { pools: string[]; data: Array<Array<number | null>> } {
  const all = new Set<string>();
  for (const p of points) for (const id of Object.keys(p.prices)) all.add(id);
  const mean = (id: string) => {
    const v = points.map((p) => p.prices[id]).filter((x): x is number => typeof x === 'number');
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : Number.POSITIVE_INFINITY;
  };
  const others = [...all].filter((id) => id !== currentPool).sort((a, b) => mean(a) - mean(b) || a.localeCompare(b));
  const pools = [...(currentPool && all.has(currentPool) ? [currentPool] : []), ...others.slice(0, maxAlternatives)];
  const x = points.map((p) => Date.parse(p.time) / 1000);
  const data: Array<Array<number | null>> = [x, points.map((p) => p.on_demand ?? null)];
  for (const id of pools) data.push(points.map((p) => p.prices[id] ?? null));
  return { pools, data };
}

export type SortDir = 'asc' | 'desc';

/** Stable sort by a column: numbers numerically, strings naturally, nulls last whatever the direction. */
export function sortRows<T>(rows: readonly T[], value: (row: T) => unknown, dir: SortDir): T[] {
  const indexed = rows.map((row, i) => ({ row, i, v: value(row) }));
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  indexed.sort((a, b) => {
    const an = a.v === null || a.v === undefined || a.v === '';
    const bn = b.v === null || b.v === undefined || b.v === '';
    if (an || bn) return an === bn ? a.i - b.i : an ? 1 : -1;
    const c = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : collator.compare(String(a.v), String(b.v));
    return (dir === 'asc' ? c : -c) || a.i - b.i;
  });
  return indexed.map((x) => x.row);
}

export interface FleetAgent {
  status: string;
  current_mode: string | null;
}
export interface FleetInstance {
  role: string;
  mode: string;
}

/** Overview counts: agents by status, live instances by role × mode. */
export function fleetCounts(agents: readonly FleetAgent[], instances: readonly FleetInstance[]) {
  const online = agents.filter((a) => a.status === 'online' || a.status === 'switching').length;
  const byRole: Record<string, { spot: number; ondemand: number }> = {};
  for (const i of instances) {
    if (i.role === 'TERMINATED') continue;
    const row = (byRole[i.role] ??= { spot: 0, ondemand: 0 });
    if (i.mode === 'spot') row.spot++;
    else row.ondemand++;
  }
  return { agents: agents.length, online, offline: agents.length - online, byRole };
}

/** The live indicator: polling and fresh (live), stopped by the user or a hidden tab (paused), failing (offline). */
export type LiveState = 'live' | 'paused' | 'offline';

export function liveState(s: { paused: boolean; hidden: boolean; failures: number; online: boolean }): LiveState {
  if (!s.online || s.failures >= 2) return 'offline';
  if (s.paused || s.hidden) return 'paused';
  return 'live';
}

/** Which pages a feed event concerns (the page refetches when its topic changes). */
export function topicsOf(type: string): string[] {
  switch (type) {
    case 'agent_status_changed':
      return ['agents', 'overview'];
    case 'instance_role_changed':
      return ['agents', 'instances', 'overview'];
    case 'command_status_changed':
      return ['commands', 'agents'];
    case 'switch_completed':
      return ['switches', 'agents', 'overview', 'savings'];
    case 'emergency_event':
      return ['emergencies', 'agents', 'overview'];
    case 'notification_created':
      return ['notifications', 'overview'];
    default:
      return [];
  }
}

/** The message a settings save shows when another change won (409 VERSION_CONFLICT). */
export function conflictMessage(details: ReadonlyArray<{ field?: string; current_version?: number }>): string {
  const current = details.find((d) => d.field === 'version')?.current_version;
  return `Someone else changed these settings${typeof current === 'number' ? ` (now version ${current})` : ''}. Reload to see their change, then apply yours again.`;
}

/**
 * Analytics and exports (API.md §3.11). Everything reads the savings ledger (daily snapshots) and
 * the Switch items through their keys: a client's snapshots are `CLIENT#<cid>` / `SAVINGS#<day>`,
 * its switches GSI1 `CLIENT#<cid>#SWITCHES` (or an agent's own collection when filtered by agent).
 */
import { mapLimit } from '../shared/concurrency.js';
import { adminRepo } from '../shared/db/admin-repo.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { type SavingsSnapshot, savingsRepo } from '../shared/db/savings-repo.js';
import { type SwitchFilters, switchesRepo } from '../shared/db/switches-repo.js';
import { NotFoundError } from '../shared/domain/errors.js';
import { parseTimestamp } from '../shared/domain/ids.js';
import { utcDay } from '../shared/domain/savings.js';
import { round } from '../shared/domain/numbers.js';
import { percentile, type Switch } from '../shared/domain/switches.js';
import type { Client } from '../shared/domain/types.js';
import { CSV_MAX_ROWS, csvReply } from './csv.js';

const DAY_MS = 86_400_000;

async function liveClient(clientId: string): Promise<Client> {
  const client = await clientsRepo.get(clientId);
  if (!client || client.status === 'deleted') throw new NotFoundError('client');
  return client;
}

const isoOrUndefined = (value: string | undefined): string | undefined =>
  value === undefined ? undefined : parseTimestamp(value).toISOString();

/** `YYYY-MM` of the month `back` months before `now`'s month. */
function monthKey(now: Date, back: number): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - back, 1));
  return d.toISOString().slice(0, 7);
}

interface MonthTotals {
  month: string;
  savings: number;
  ondemand_cost: number;
  actual_cost: number;
}

/** The last `months` calendar months (oldest first, current month included), summed from snapshots. */
function byMonth(snapshots: readonly SavingsSnapshot[], now: Date, months: number): MonthTotals[] {
  const rows = new Map<string, MonthTotals>();
  for (let back = months - 1; back >= 0; back--) {
    const month = monthKey(now, back);
    rows.set(month, { month, savings: 0, ondemand_cost: 0, actual_cost: 0 });
  }
  for (const s of snapshots) {
    const row = rows.get(s.date.slice(0, 7));
    if (!row) continue;
    row.savings += s.savings;
    row.ondemand_cost += s.ondemand_cost;
    row.actual_cost += s.actual_cost;
  }
  return [...rows.values()].map((r) => ({
    month: r.month,
    savings: round(r.savings, 6),
    ondemand_cost: round(r.ondemand_cost, 6),
    actual_cost: round(r.actual_cost, 6),
  }));
}

/**
 * GET /api/client/{cid}/savings?months=N. `total_savings` is the client's running total (every
 * snapshotted day); `monthly_savings` is the savings of the last 30 snapshotted days (a rolling
 * month, so it does not drop to zero on the 1st); `as_of` is the end of the newest snapshotted day.
 */
export async function savingsSummary(clientId: string, months: number, now: Date) {
  const client = await liveClient(clientId);
  const fromDay = `${monthKey(now, months - 1)}-01`;
  const snapshots = await savingsRepo.listSnapshots(clientId, fromDay, utcDay(now.getTime()));
  const last30From = utcDay(now.getTime() - 30 * DAY_MS);
  const recent = snapshots.filter((s) => s.date >= last30From);
  const savings = snapshots.reduce((a, s) => a + s.savings, 0);
  const ondemand = snapshots.reduce((a, s) => a + s.ondemand_cost, 0);
  const newest = snapshots.at(-1);
  return {
    total_savings: round(client.total_savings ?? 0, 6),
    monthly_savings: snapshots.length ? round(recent.reduce((a, s) => a + s.savings, 0), 6) : null,
    average_savings_percent: ondemand > 0 ? round((savings / ondemand) * 100, 2) : null,
    savings_by_month: byMonth(snapshots, now, months),
    as_of: newest ? new Date(Date.parse(`${newest.date}T00:00:00.000Z`) + DAY_MS).toISOString() : null,
  };
}

/** The Switch resource (API.md §3.0) as returned. */
export const switchView = (s: Switch) => ({
  id: s.id,
  switch_id: s.id,
  agent_id: s.agent_id,
  command_id: s.command_id,
  trigger_type: s.trigger_type,
  old_instance_id: s.old_instance_id,
  new_instance_id: s.new_instance_id,
  old_mode: s.old_mode,
  new_mode: s.new_mode,
  old_pool_id: s.old_pool_id,
  new_pool_id: s.new_pool_id,
  on_demand_price: s.on_demand_price,
  old_price: s.old_price,
  new_price: s.new_price,
  savings_impact: s.savings_impact,
  downtime_seconds: s.downtime_seconds,
  initiated_at: s.initiated_at,
  completed_at: s.completed_at,
  timing: s.timing ?? null,
  old_instance_outcome: s.old_instance_outcome,
});

export interface SwitchHistoryQuery {
  agent_id?: string;
  instance_id?: string;
  trigger?: string;
  from?: string;
  to?: string;
  limit: number;
  nextToken?: string;
}

const filtersOf = (q: Omit<SwitchHistoryQuery, 'limit' | 'nextToken'>): SwitchFilters => ({
  ...(q.agent_id ? { agentId: q.agent_id } : {}),
  ...(q.instance_id ? { instanceId: q.instance_id } : {}),
  ...(q.trigger ? { trigger: q.trigger } : {}),
  ...(q.from ? { from: isoOrUndefined(q.from) } : {}),
  ...(q.to ? { to: isoOrUndefined(q.to) } : {}),
});

/** GET /api/client/{cid}/switch-history (and the `switches` alias): newest first, with the filtered total. */
export async function switchHistory(clientId: string, q: SwitchHistoryQuery) {
  const filters = filtersOf(q);
  const [page, total] = await Promise.all([
    switchesRepo.pageByClient(clientId, filters, q.limit, q.nextToken),
    switchesRepo.countByClient(clientId, filters),
  ]);
  return { switches: page.items.map(switchView), total, nextToken: page.nextToken };
}

/** GET /api/client/{cid}/stats/charts?months=&days=. */
export async function dashboardCharts(clientId: string, months: number, days: number, now: Date) {
  await liveClient(clientId);
  const fromDay = `${monthKey(now, months - 1)}-01`;
  const [snapshots, agents, switches] = await Promise.all([
    savingsRepo.listSnapshots(clientId, fromDay, utcDay(now.getTime())),
    agentsRepo.listAllByClient(clientId),
    switchesRepo.listByClient(clientId, { from: new Date(now.getTime() - (days - 1) * DAY_MS).toISOString().slice(0, 10) }, CSV_MAX_ROWS),
  ]);
  const modes = new Map<string, number>([
    ['spot', 0],
    ['ondemand', 0],
  ]);
  for (const a of agents) {
    if (a.status === 'deleted' || !a.primary_instance_id || !a.current_mode) continue;
    modes.set(a.current_mode, (modes.get(a.current_mode) ?? 0) + 1);
  }
  const perDay = new Map<string, number>();
  for (let back = days - 1; back >= 0; back--) perDay.set(utcDay(now.getTime() - back * DAY_MS), 0);
  for (const s of switches) {
    const day = s.initiated_at.slice(0, 10);
    if (perDay.has(day)) perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  return {
    savings_trend: byMonth(snapshots, now, months).map((m) => ({
      month: m.month,
      savings: m.savings,
      baseline: m.ondemand_cost,
      actual: m.actual_cost,
    })),
    mode_distribution: [...modes.entries()].map(([mode, count]) => ({ mode, count })),
    switch_frequency: [...perDay.entries()].map(([date, n]) => ({ date, switches: n })),
  };
}

/**
 * GET /api/client/{cid}/analytics/downtime?window_hours=N. Success rate = recorded switches /
 * (recorded switches + switch commands that failed or expired in the window).
 */
export async function downtimeAnalytics(clientId: string, windowHours: number, now: Date) {
  await liveClient(clientId);
  const from = new Date(now.getTime() - windowHours * 3_600_000).toISOString();
  const [switches, agents] = await Promise.all([
    switchesRepo.listByClient(clientId, { from }, CSV_MAX_ROWS),
    agentsRepo.listAllByClient(clientId),
  ]);
  // Commands live in each agent's own partition (no client-wide index): one Query per live agent, together.
  const failedPerAgent = await Promise.all(
    agents
      .filter((agent) => agent.status !== 'deleted')
      .map(async (agent) => {
        const commands = await commandsRepo.listByAgent(agent.id);
        return commands.filter(
          (c) => c.command_type === 'switch' && (c.status === 'failed' || c.status === 'expired') && (c.completed_at ?? c.created_at) >= from,
        ).length;
      }),
  );
  const failed = failedPerAgent.reduce((a, b) => a + b, 0);
  const measured = switches.filter((s): s is Switch & { downtime_seconds: number } => typeof s.downtime_seconds === 'number');
  const downtimes = measured.map((s) => s.downtime_seconds);
  const total = downtimes.reduce((a, b) => a + b, 0);
  const byTrigger: Record<string, { total_seconds: number; count: number }> = {};
  for (const s of switches) {
    const t = (byTrigger[s.trigger_type] ??= { total_seconds: 0, count: 0 });
    t.count++;
    t.total_seconds = round(t.total_seconds + (s.downtime_seconds ?? 0), 3);
  }
  const longest = measured.reduce<(Switch & { downtime_seconds: number }) | undefined>(
    (best, s) => (!best || s.downtime_seconds > best.downtime_seconds ? s : best),
    undefined,
  );
  const attempts = switches.length + failed;
  return {
    window_hours: windowHours,
    total_switches: switches.length,
    failed_switches: failed,
    success_rate: attempts ? round(switches.length / attempts, 4) : null,
    total_downtime_seconds: round(total, 3),
    average_downtime_seconds: downtimes.length ? round(total / downtimes.length, 3) : null,
    p50_downtime_seconds: percentile(downtimes, 50),
    p95_downtime_seconds: percentile(downtimes, 95),
    max_downtime_seconds: downtimes.length ? Math.max(...downtimes) : null,
    downtime_by_trigger: byTrigger,
    longest_downtime: longest ? { switch_id: longest.id, downtime_seconds: longest.downtime_seconds } : null,
  };
}

// ---------------------------------------------------------------------------------------------
// CSV exports
// ---------------------------------------------------------------------------------------------

const SAVINGS_COLUMNS = ['date', 'savings_usd', 'ondemand_cost_usd', 'actual_cost_usd', 'spot_hours', 'ondemand_hours'] as const;

/** GET /api/client/{cid}/export/savings?from=&to= — one row per snapshotted day, oldest first. */
export async function exportSavingsCsv(clientId: string, q: { from?: string; to?: string }, now: Date) {
  const client = await liveClient(clientId);
  const fromDay = q.from ? utcDay(parseTimestamp(q.from).getTime()) : utcDay(Date.parse(client.created_at));
  const toDay = q.to ? utcDay(parseTimestamp(q.to).getTime()) : utcDay(now.getTime());
  const snapshots = await savingsRepo.listSnapshots(clientId, fromDay, toDay, CSV_MAX_ROWS + 1);
  const rows = snapshots.map((s) => ({
    date: s.date,
    savings_usd: s.savings,
    ondemand_cost_usd: s.ondemand_cost,
    actual_cost_usd: s.actual_cost,
    spot_hours: s.spot_hours,
    ondemand_hours: s.ondemand_hours,
  }));
  return csvReply(`savings-${clientId}-${fromDay}-to-${toDay}.csv`, SAVINGS_COLUMNS, rows);
}

const SWITCH_COLUMNS = [
  'id',
  'agent_id',
  'command_id',
  'trigger_type',
  'old_instance_id',
  'new_instance_id',
  'old_mode',
  'new_mode',
  'old_pool_id',
  'new_pool_id',
  'on_demand_price',
  'old_price',
  'new_price',
  'savings_impact',
  'downtime_seconds',
  'initiated_at',
  'completed_at',
  'old_instance_outcome',
] as const;

/** GET /api/client/{cid}/export/switch-history?from=&to=&agent_id= — the Switch fields, newest first. */
export async function exportSwitchHistoryCsv(clientId: string, q: { from?: string; to?: string; agent_id?: string }, now: Date) {
  await liveClient(clientId);
  const switches = await switchesRepo.listByClient(clientId, filtersOf(q), CSV_MAX_ROWS + 1);
  return csvReply(`switch-history-${clientId}-${utcDay(now.getTime())}.csv`, SWITCH_COLUMNS, switches.map(switchView));
}

const GLOBAL_COLUMNS = [
  'client_id',
  'name',
  'status',
  'agents_total',
  'agents_online',
  'instances_active',
  'total_savings_usd',
  'switches_30d',
] as const;

/** GET /api/admin/export/global-stats — one row per client (deleted clients included, with their status). */
export async function exportGlobalStatsCsv(now: Date) {
  const since = new Date(now.getTime() - 30 * DAY_MS).toISOString();
  const rows: Record<string, unknown>[] = [];
  let token: string | undefined;
  do {
    const page = await clientsRepo.list(100, token);
    token = page.nextToken ?? undefined;
    // A few clients at a time: each costs a sharded agents Query and a Query per agent.
    // A few clients at a time; each is counted (Query COUNT), not listed.
    const pageRows = await mapLimit(page.items.slice(0, Math.max(0, CSV_MAX_ROWS + 1 - rows.length)), 8, async (client) => {
      const [fleet, switches30d] = await Promise.all([
        adminRepo.clientFleet(client as Client & { agents_live?: number }),
        switchesRepo.countByClient(client.id, { from: since }),
      ]);
      return {
        client_id: client.id,
        name: client.name,
        status: client.status,
        agents_total: fleet.agents_total,
        agents_online: fleet.agents_online,
        instances_active: fleet.instances_active,
        total_savings_usd: round(client.total_savings ?? 0, 6),
        switches_30d: switches30d,
      };
    });
    rows.push(...pageRows);
  } while (token && rows.length <= CSV_MAX_ROWS);
  return csvReply(`global-stats-${utcDay(now.getTime())}.csv`, GLOBAL_COLUMNS, rows);
}

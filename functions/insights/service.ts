/**
 * Read models for the web console (see routes.ts). Every figure is computed here, on the server,
 * from stored data reached through documented keys — the browser only formats it:
 * - savings by cause: the client's daily savings snapshots (time on spot, on-demand hours) and its
 *   agents' replicas (hourly cost × running hours, clipped to the window) as the overhead;
 * - pools: the PRIMARY periods of the client's instances (from their lifecycle logs), the pool
 *   items (price, on-demand, risk) and our own interruption history;
 * - failover: the client's interruption incidents and the commands they issued.
 */
import { loadAgent } from '../shared/flows/agent-access.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { decisionsRepo } from '../shared/db/decisions-repo.js';
import { incidentsRepo } from '../shared/db/incidents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { type PoolItem, pricesRepo } from '../shared/db/prices-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { savingsRepo } from '../shared/db/savings-repo.js';
import { FINAL_COMMAND_STATUSES } from '../shared/domain/commands.js';
import { NotFoundError, ValidationError } from '../shared/domain/errors.js';
import { parseTimestamp } from '../shared/domain/ids.js';
import { emergencyEventView, type Incident } from '../shared/domain/incidents.js';
import { utcDay } from '../shared/domain/savings.js';
import { round } from '../shared/domain/numbers.js';
import { isPlaceholderId } from '../shared/domain/replicas.js';
import { percentile } from '../shared/domain/switches.js';
import type { Caller, Command, Instance, Replica } from '../shared/domain/types.js';
import { type InstanceEvent, listInstanceEvents } from '../shared/instance-log.js';
import { interruptionsByPool } from '../shared/pool-interruptions.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const money = (x: number) => round(x, 6);
const hours = (x: number) => round(x, 4);

async function liveClient(clientId: string) {
  const client = await clientsRepo.get(clientId);
  if (!client || client.status === 'deleted') throw new NotFoundError('client');
  return client;
}

// ---------------------------------------------------------------------------------------------
// Pagination over a list already in memory (an agent's commands, one agent's incidents)

/** A page of `items` after an opaque offset token; a bad token is 400 INVALID_NEXT_TOKEN. */
export function pageOf<T>(items: readonly T[], limit: number, nextToken?: string): { items: T[]; nextToken: string | null } {
  let offset = 0;
  if (nextToken) {
    const parsed = /^o(\d{1,9})$/.exec(Buffer.from(nextToken, 'base64url').toString('utf8'));
    if (!parsed?.[1]) throw new ValidationError('nextToken is not valid', [{ field: 'query.nextToken', issue: 'invalid' }], 'INVALID_NEXT_TOKEN');
    offset = Number(parsed[1]);
  }
  const end = offset + limit;
  return {
    items: items.slice(offset, end),
    nextToken: end < items.length ? Buffer.from(`o${end}`).toString('base64url') : null,
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/client/agents/{aid}/commands

const OPEN = new Set(['pending', 'acknowledged', 'executing']);

export const commandView = (c: Command) => ({
  id: c.id,
  agent_id: c.agent_id,
  instance_id: c.instance_id,
  command_type: c.command_type,
  target_mode: c.target_mode,
  target_pool_id: c.target_pool_id,
  replica_id: c.replica_id,
  terminate_wait_seconds: c.terminate_wait_seconds,
  priority: c.priority,
  status: c.status,
  trigger_type: c.trigger_type,
  created_by: c.created_by,
  reason: c.reason,
  created_at: c.created_at,
  delivered_at: c.delivered_at,
  completed_at: c.completed_at,
  expires_at: c.expires_at,
  success: c.success,
  message: c.message,
  version: c.version,
});

export async function agentCommands(caller: Caller, agentId: string, q: { status?: string; limit: number; nextToken?: string }) {
  const agent = await loadAgent(caller, agentId);
  const all = (await commandsRepo.listByAgent(agent.id))
    .filter((c) =>
      !q.status ? true : q.status === 'open' ? OPEN.has(c.status) : q.status === 'final' ? FINAL_COMMAND_STATUSES.has(c.status) : c.status === q.status,
    )
    .sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
  const page = pageOf(all, q.limit, q.nextToken);
  return { commands: page.items.map(commandView), nextToken: page.nextToken };
}

// ---------------------------------------------------------------------------------------------
// GET /api/client/agents/{aid}/decision-log

export async function agentDecisions(caller: Caller, agentId: string, q: { limit: number; nextToken?: string }) {
  const agent = await loadAgent(caller, agentId);
  const page = await decisionsRepo.page(agent.id, q.limit, q.nextToken);
  return {
    decisions: page.items.map((d) => ({
      decision_id: d.decision_id,
      decision_type: d.decision_type,
      recommended_action: d.recommended_action,
      recommended_mode: d.recommended_mode,
      recommended_pool_id: d.recommended_pool_id ?? null,
      current_mode: d.current_mode ?? null,
      current_pool_id: d.current_pool_id ?? null,
      risk_score: d.risk_score ?? null,
      expected_savings_per_hour: d.expected_savings_per_hour ?? null,
      confidence: d.confidence ?? null,
      allowed: d.allowed,
      reason: d.reason,
      trigger: d.trigger ?? null,
      created_at: d.created_at,
    })),
    nextToken: page.nextToken,
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/client/{cid}/insights/emergencies

export interface ClientEmergencyQuery {
  agent_id?: string;
  signal_type?: string;
  outcome?: string;
  since?: string;
  limit: number;
  nextToken?: string;
}

function incidentSummary(items: readonly Incident[]) {
  const bySignal: Record<string, number> = {};
  const byOutcome: Record<string, number> = {};
  const failovers: number[] = [];
  for (const i of items) {
    bySignal[i.signal_type] = (bySignal[i.signal_type] ?? 0) + 1;
    byOutcome[i.outcome] = (byOutcome[i.outcome] ?? 0) + 1;
    if (typeof i.failover_time_ms === 'number') failovers.push(i.failover_time_ms);
  }
  return {
    total: items.length,
    by_signal: bySignal,
    by_outcome: byOutcome,
    avg_failover_ms: failovers.length ? Math.round(failovers.reduce((a, b) => a + b, 0) / failovers.length) : null,
  };
}

/** The client's incidents (GSI3 `CLIENT#<cid>#INCIDENTS`); one agent's come from its own index (GSI1). */
export async function clientEmergencyEvents(clientId: string, q: ClientEmergencyQuery) {
  await liveClient(clientId);
  const since = q.since ? parseTimestamp(q.since).toISOString() : undefined;
  let matching: Incident[];
  if (q.agent_id) {
    const agent = await agentsRepo.get(q.agent_id);
    if (!agent || agent.client_id !== clientId) throw new NotFoundError('agent');
    matching = (await incidentsRepo.listByAgent(agent.id)).filter(
      (i) =>
        (!since || i.detected_at >= since) &&
        (!q.signal_type || i.signal_type === q.signal_type) &&
        (!q.outcome || i.outcome === q.outcome),
    );
  } else {
    const filter = {
      clientId,
      ...(since ? { since } : {}),
      ...(q.signal_type ? { signal: q.signal_type } : {}),
      ...(q.outcome ? { outcome: q.outcome } : {}),
    };
    matching = (await incidentsRepo.listForAdmin(filter, 'all')).items;
  }
  const page = pageOf(matching, q.limit, q.nextToken);
  return { summary: incidentSummary(matching), events: page.items.map(emergencyEventView), nextToken: page.nextToken };
}

// ---------------------------------------------------------------------------------------------
// GET /api/client/{cid}/savings/daily

export async function dailySavings(clientId: string, days: number, now: Date) {
  await liveClient(clientId);
  const snapshots = await savingsRepo.listSnapshots(clientId, utcDay(now.getTime() - days * DAY_MS), utcDay(now.getTime()));
  let cumulative = 0;
  const totals = { savings: 0, ondemand_cost: 0, actual_cost: 0 };
  const rows = snapshots.map((s) => {
    cumulative += s.savings;
    totals.savings += s.savings;
    totals.ondemand_cost += s.ondemand_cost;
    totals.actual_cost += s.actual_cost;
    return {
      date: s.date,
      savings: money(s.savings),
      ondemand_cost: money(s.ondemand_cost),
      actual_cost: money(s.actual_cost),
      spot_hours: hours(s.spot_hours),
      ondemand_hours: hours(s.ondemand_hours),
      cumulative_savings: money(cumulative),
    };
  });
  const newest = snapshots.at(-1);
  return {
    days: rows,
    totals: { savings: money(totals.savings), ondemand_cost: money(totals.ondemand_cost), actual_cost: money(totals.actual_cost) },
    as_of: newest ? new Date(Date.parse(`${newest.date}T00:00:00.000Z`) + DAY_MS).toISOString() : null,
  };
}

// ---------------------------------------------------------------------------------------------
// The window of the three panels: the last `days` whole UTC days up to the newest frozen day

interface Window {
  fromMs: number;
  toMs: number;
}

const windowView = (w: Window, days: number) => ({ from: new Date(w.fromMs).toISOString(), to: new Date(w.toMs).toISOString(), days });

/** Whole days ending at today's UTC midnight: the days the snapshot job has frozen (or will tonight). */
function lastDays(days: number, now: Date): Window {
  const toMs = Date.parse(`${utcDay(now.getTime())}T00:00:00.000Z`);
  return { fromMs: toMs - days * DAY_MS, toMs };
}

const overlapHours = (start: number, end: number, w: Window): number =>
  Math.max(0, Math.min(end, w.toMs) - Math.max(start, w.fromMs)) / HOUR_MS;

// ---------------------------------------------------------------------------------------------
// GET /api/client/{cid}/insights/savings-by-cause

/**
 * When a replica stopped costing as a replica: its termination, or its promotion (from then on it
 * is the PRIMARY and the ledger counts it). Unknown promotion time → null (not counted).
 */
function replicaEnd(r: Replica, promotedAt: Map<string, string>, now: Date): number | null {
  if (r.terminated_at) return Date.parse(r.terminated_at);
  if (r.status === 'promoted') {
    const at = promotedAt.get(r.id);
    return at ? Date.parse(at) : null;
  }
  if (r.status === 'failed') return null;
  return now.getTime();
}

/** Hours and cost of one replica inside the window (a placeholder never launched costs nothing). */
export function replicaOverhead(r: Replica, promotedAt: Map<string, string>, w: Window, now: Date): { hours: number; cost: number } {
  if (isPlaceholderId(r.instance_id) && !r.launched_at) return { hours: 0, cost: 0 };
  const end = replicaEnd(r, promotedAt, now);
  if (end === null) return { hours: 0, cost: 0 };
  const h = overlapHours(Date.parse(r.launched_at ?? r.created_at), end, w);
  return { hours: h, cost: h * (r.hourly_cost ?? 0) };
}

export async function savingsByCause(clientId: string, days: number, now: Date) {
  await liveClient(clientId);
  const w = lastDays(days, now);
  const [snapshots, agents, incidents] = await Promise.all([
    savingsRepo.listSnapshots(clientId, utcDay(w.fromMs), utcDay(w.toMs - 1)),
    agentsRepo.listAllByClient(clientId),
    incidentsRepo.listForAdmin({ clientId, since: new Date(w.fromMs - 30 * DAY_MS).toISOString() }, 'all'),
  ]);
  const promotedAt = new Map<string, string>();
  for (const i of incidents.items) if (i.replica_id && i.outcome === 'promoted' && i.resolved_at) promotedAt.set(i.replica_id, i.resolved_at);
  const replicas = (await Promise.all(agents.map((a) => replicasRepo.listByAgent(a.id)))).flat();
  let overheadCost = 0;
  let overheadHours = 0;
  let counted = 0;
  for (const r of replicas) {
    const o = replicaOverhead(r, promotedAt, w, now);
    if (o.hours > 0) counted++;
    overheadCost += o.cost;
    overheadHours += o.hours;
  }
  const sum = (f: (s: (typeof snapshots)[number]) => number) => snapshots.reduce((a, s) => a + f(s), 0);
  const spotHours = sum((s) => s.spot_hours);
  const odHours = sum((s) => s.ondemand_hours);
  const savings = sum((s) => s.savings);
  const actual = sum((s) => s.actual_cost);
  const baseline = sum((s) => s.ondemand_cost);
  // On-demand hours pay the baseline (their savings are zero): their cost is baseline − savings − spot's cost, per day.
  const odCost = snapshots.reduce((a, s) => {
    const total = s.spot_hours + s.ondemand_hours;
    return a + (total > 0 ? (s.actual_cost * s.ondemand_hours) / total : 0);
  }, 0);
  return {
    window: windowView(w, days),
    spot: { savings: money(savings), hours: hours(spotHours) },
    replica_overhead: { cost: money(-overheadCost), hours: hours(overheadHours), replicas: counted },
    ondemand_fallback: {
      hours: hours(odHours),
      share_of_hours: spotHours + odHours > 0 ? round(odHours / (spotHours + odHours), 4) : null,
      cost: money(odCost),
    },
    net_savings: money(savings - overheadCost),
    ondemand_baseline: money(baseline),
    actual_cost: money(actual + overheadCost),
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/client/{cid}/insights/pools

const STARTS = new Set(['became_primary', 'promoted']);
const ENDS = new Set(['became_zombie', 'became_replica', 'terminated']);

/** The periods an instance was the PRIMARY, from its lifecycle log (oldest first). */
export function primaryPeriods(events: readonly Pick<InstanceEvent, 'event_type' | 'timestamp'>[], stillPrimary: boolean, nowMs: number): Array<[number, number]> {
  const ordered = [...events].sort((a, b) => a.timestamp.localeCompare(b.timestamp));
  const periods: Array<[number, number]> = [];
  let start: number | null = null;
  for (const e of ordered) {
    const at = Date.parse(e.timestamp);
    if (STARTS.has(e.event_type) && start === null) start = at;
    else if (ENDS.has(e.event_type) && start !== null) {
      periods.push([start, at]);
      start = null;
    }
  }
  if (start !== null) periods.push([start, stillPrimary ? nowMs : start]);
  return periods;
}

async function allInstances(clientId: string): Promise<Instance[]> {
  const out: Instance[] = [];
  let token: string | undefined;
  do {
    const page = await instancesRepo.listByClient(clientId, 200, token);
    out.push(...page.items);
    token = page.nextToken ?? undefined;
  } while (token && out.length < 5_000);
  return out;
}

async function instanceLog(instanceId: string): Promise<InstanceEvent[]> {
  const out: InstanceEvent[] = [];
  let token: string | undefined;
  do {
    const page = await listInstanceEvents(instanceId, { limit: 200, ...(token ? { nextToken: token } : {}) });
    out.push(...page.events);
    token = page.nextToken ?? undefined;
  } while (token && out.length < 2_000);
  return out;
}

export async function poolInsights(clientId: string, days: number, now: Date) {
  await liveClient(clientId);
  const w = lastDays(days, now);
  const live: Window = { fromMs: w.fromMs, toMs: now.getTime() };
  const [instances, agents, installation, clientIncidents] = await Promise.all([
    allInstances(clientId),
    agentsRepo.listAllByClient(clientId),
    interruptionsByPool(new Date(now.getTime() - 30 * DAY_MS).toISOString()),
    incidentsRepo.listForAdmin({ clientId, since: new Date(w.fromMs).toISOString(), signal: 'termination' }, 'all'),
  ]);
  const rows = new Map<string, { pool_id: string; mode: 'spot' | 'ondemand'; instance_type: string; az: string; hours: number; agents_now: number; interrupted: number }>();
  const rowOf = (i: Pick<Instance, 'pool_id' | 'mode' | 'instance_type' | 'az'>) => {
    const poolId = i.pool_id ?? `${i.instance_type}.${i.az}`;
    const key = `${i.mode}|${poolId}`;
    let row = rows.get(key);
    if (!row) {
      row = { pool_id: poolId, mode: i.mode, instance_type: i.instance_type, az: i.az, hours: 0, agents_now: 0, interrupted: 0 };
      rows.set(key, row);
    }
    return row;
  };
  const logs = await Promise.all(instances.map((i) => instanceLog(i.id)));
  instances.forEach((instance, n) => {
    const periods = primaryPeriods(logs[n] ?? [], instance.role === 'PRIMARY', now.getTime());
    const h = periods.reduce((a, [s, e]) => a + overlapHours(s, e, live), 0);
    if (h > 0 || instance.role === 'PRIMARY') rowOf(instance).hours += h;
  });
  const byId = new Map(instances.map((i) => [i.id, i]));
  for (const agent of agents) {
    if (agent.status === 'deleted' || !agent.primary_instance_id) continue;
    const primary = byId.get(agent.primary_instance_id);
    if (primary) rowOf(primary).agents_now++;
  }
  for (const incident of clientIncidents.items) {
    const instance = byId.get(incident.instance_id);
    if (instance) rowOf(instance).interrupted++;
  }
  const pools = new Map<string, PoolItem | undefined>();
  await Promise.all(
    [...new Set([...rows.values()].map((r) => r.pool_id))].map(async (id) => pools.set(id, await pricesRepo.getPool(id))),
  );
  const totalHours = [...rows.values()].reduce((a, r) => a + r.hours, 0);
  return {
    window: windowView(w, days),
    pools: [...rows.values()]
      .map((r) => {
        const pool = pools.get(r.pool_id);
        const od = pool?.on_demand_price ?? null;
        const price = r.mode === 'ondemand' ? od : (pool?.price ?? null);
        return {
          pool_id: r.pool_id,
          mode: r.mode,
          instance_type: r.instance_type,
          az: r.az,
          price,
          on_demand_price: od,
          savings_percent: r.mode === 'spot' && price !== null && od ? round((1 - price / od) * 100, 2) : null,
          risk_score: r.mode === 'spot' ? (pool?.risk_score ?? null) : null,
          interruptions_30d: r.mode === 'spot' ? (installation.get(r.pool_id)?.length ?? 0) : 0,
          client_interruptions: r.interrupted,
          hours: hours(r.hours),
          share_of_time: totalHours > 0 ? round(r.hours / totalHours, 4) : null,
          agents_now: r.agents_now,
        };
      })
      .sort((a, b) => b.hours - a.hours || a.pool_id.localeCompare(b.pool_id)),
  };
}

// ---------------------------------------------------------------------------------------------
// GET /api/client/{cid}/insights/failover

const latencyOf = (values: number[]) => ({
  count: values.length,
  p50_ms: percentile(values, 50),
  p95_ms: percentile(values, 95),
  max_ms: values.length ? Math.max(...values) : null,
});

const diff = (later: string | null | undefined, earlier: string | null | undefined): number | null =>
  later && earlier ? Date.parse(later) - Date.parse(earlier) : null;

export interface FailoverRow {
  id: string;
  agent_id: string;
  instance_id: string;
  signal_type: string;
  outcome: string;
  path: 'replica' | 'command' | 'none';
  notice_at: string;
  command_at: string | null;
  promoted_at: string | null;
  deadline: string | null;
  notice_to_command_ms: number | null;
  command_to_promotion_ms: number | null;
  notice_to_promotion_ms: number | null;
  time_left_ms: number | null;
}

/**
 * One interruption's failover: a ready replica promoted by the server (path `replica`, no command),
 * or an emergency switch command the agent executed (path `command`: the new PRIMARY exists when the
 * command completes). Time left = the reclaim deadline − the moment the workload had a new PRIMARY.
 */
export function failoverRow(i: Incident, command: Command | undefined): FailoverRow {
  const path = i.outcome === 'promoted' && i.replica_id ? 'replica' : command ? 'command' : 'none';
  const promotedAt =
    path === 'replica' ? i.resolved_at : path === 'command' && command?.status === 'completed' ? command.completed_at : null;
  const notice = i.detected_at;
  const noticeToPromotion = path === 'replica' && typeof i.failover_time_ms === 'number' ? i.failover_time_ms : diff(promotedAt, notice);
  return {
    id: i.id,
    agent_id: i.agent_id,
    instance_id: i.instance_id,
    signal_type: i.signal_type,
    outcome: i.outcome,
    path,
    notice_at: notice,
    command_at: command?.created_at ?? null,
    promoted_at: promotedAt ?? null,
    deadline: i.deadline,
    notice_to_command_ms: diff(command?.created_at, notice),
    command_to_promotion_ms: path === 'command' ? diff(promotedAt, command?.created_at) : null,
    notice_to_promotion_ms: noticeToPromotion,
    time_left_ms: diff(i.deadline, promotedAt),
  };
}

export async function failoverInsights(clientId: string, days: number, now: Date) {
  await liveClient(clientId);
  const w = lastDays(days, now);
  const { items } = await incidentsRepo.listForAdmin({ clientId, since: new Date(w.fromMs).toISOString() }, 'all');
  const interruptions = items.filter((i) => i.signal_type !== 'rebalance');
  const rows = await Promise.all(
    interruptions.map(async (i) => failoverRow(i, i.command_id ? await commandsRepo.get(i.agent_id, i.command_id) : undefined)),
  );
  const values = (f: (r: FailoverRow) => number | null) => rows.map(f).filter((v): v is number => v !== null);
  const recovered = rows.filter((r) => r.promoted_at !== null);
  return {
    window: { from: new Date(w.fromMs).toISOString(), to: now.toISOString(), days },
    summary: {
      interruptions: rows.length,
      recovered: recovered.length,
      before_deadline: recovered.filter((r) => r.time_left_ms === null || r.time_left_ms >= 0).length,
      notice_to_command: latencyOf(values((r) => r.notice_to_command_ms)),
      command_to_promotion: latencyOf(values((r) => r.command_to_promotion_ms)),
      notice_to_promotion: latencyOf(values((r) => r.notice_to_promotion_ms)),
      time_left_before_reclaim: latencyOf(values((r) => r.time_left_ms)),
    },
    incidents: rows,
  };
}

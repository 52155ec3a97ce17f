/**
 * The admin dashboards (API.md §3.3): global totals, client growth, the agents' heartbeat health
 * and the operational metrics. Every figure comes from a Query on a documented index, a counter or
 * a GetItem (README "Access patterns"), never a Scan.
 */
import { adminRepo } from '../shared/db/admin-repo.js';
import { incidentsRepo } from '../shared/db/incidents-repo.js';
import { savingsRepo } from '../shared/db/savings-repo.js';
import { statsRepo } from '../shared/db/stats-repo.js';
import { switchesRepo } from '../shared/db/switches-repo.js';
import { uploadsRepo } from '../shared/db/uploads-repo.js';
import { round } from '../shared/domain/numbers.js';
import type { AgentStatus, Client } from '../shared/domain/types.js';
import { downtimeSummary, sumCounter } from '../shared/stats.js';

// ---- GET /api/admin/stats ----

/**
 * Global totals. Counters used (no Scan, no per-agent reads): `agents_live` on each client item
 * (agents-repo keeps it in the create/delete transactions) and switches-repo's all-time switch
 * counters (ADDed in the switch-report transaction). Online agents = the sparse heartbeat index;
 * active instances = the `INSTANCES#PRIMARY` and `INSTANCES#REPLICA` partitions (Select COUNT).
 */
export async function getStats() {
  const [clients, online, primaries, replicas, pools, switches, pointer] = await Promise.all([
    adminRepo.allClients(['id', 'status', 'total_savings', 'agents_live']),
    adminRepo.countOnlineAgents(),
    adminRepo.countInstances('PRIMARY'),
    adminRepo.countInstances('REPLICA'),
    adminRepo.countPools(),
    switchesRepo.counters(),
    uploadsRepo.pointer(false),
  ]);
  const live = clients.filter((c) => c.status !== 'deleted');
  return {
    total_clients: live.length,
    agents_online: online,
    agents_total: live.reduce((acc, c) => acc + Math.max(0, Number(c.agents_live ?? 0)), 0),
    instances_active: primaries + replicas,
    pools_covered: pools,
    total_savings: round(clients.reduce((acc, c) => acc + Number(c.total_savings ?? 0), 0)),
    switches: {
      total: switches.total,
      manual: switches.manual,
      model: switches.model,
      emergency: switches.emergency,
      scheduled: switches.scheduled,
    },
    decision_engine: { loaded: true, active_upload_id: pointer?.active_upload_id ?? null },
  };
}

// ---- GET /api/admin/clients/growth ----

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * One point per day for the last `days` days (today included). Days the daily snapshot job has
 * stored (keys.growthDay) are used as stored; other days (today, or before the job ran) are
 * derived from the clients index: `total` and `new` exactly, `active` = clients with an agent
 * online now for today and 0 for older unsnapshotted days.
 */
export async function clientGrowth(days: number, now: Date) {
  const today = dayOf(now.getTime());
  const first = dayOf(now.getTime() - (days - 1) * 86_400_000);
  const snapshots = new Map((await savingsRepo.listGrowth(first, today)).map((g) => [g.date, g]));
  const dates: string[] = [];
  for (let i = days - 1; i >= 0; i--) dates.push(dayOf(now.getTime() - i * 86_400_000));
  const missing = dates.filter((d) => !snapshots.has(d));
  let clients: Array<Partial<Client>> = [];
  let activeToday = 0;
  if (missing.length > 0) {
    clients = await adminRepo.allClients(['id', 'status', 'created_at', 'deleted_at']);
    if (missing.includes(today)) {
      const online = await adminRepo.allAgents(['client_id', 'status']);
      activeToday = new Set(online.filter((a) => a.status === 'online' || a.status === 'switching').map((a) => a.client_id)).size;
    }
  }
  const series = dates.map((date) => {
    const stored = snapshots.get(date);
    if (stored) return { date, total: stored.total, new: stored.new, active: stored.active, source: 'snapshot' };
    const end = `${date}T23:59:59.999Z`;
    return {
      date,
      total: clients.filter((c) => (c.created_at ?? '') <= end && (c.status !== 'deleted' || (c.deleted_at ?? '') > end)).length,
      new: clients.filter((c) => (c.created_at ?? '').slice(0, 10) === date).length,
      active: date === today ? activeToday : 0,
      source: 'derived',
    };
  });
  return { series };
}

// ---- GET /api/admin/agents/health-summary ----

/** API.md §3.3 heartbeat buckets: under 60 s, 60–120 s, over 120 s. */
export function heartbeatBucket(lastHeartbeatAt: string | null | undefined, now: Date): 'healthy' | 'degraded' | 'critical' {
  if (!lastHeartbeatAt) return 'critical';
  const age = now.getTime() - Date.parse(lastHeartbeatAt);
  return age < 60_000 ? 'healthy' : age <= 120_000 ? 'degraded' : 'critical';
}

export async function agentHealthSummary(now: Date) {
  const agents = await adminRepo.allAgents(['id', 'client_id', 'status', 'enabled', 'last_heartbeat_at']);
  const counts = { online: 0, offline: 0, disabled: 0, deleted: 0, error: 0 };
  const byClient = new Map<string, { client_id: string; online: number; offline: number }>();
  const distribution = { healthy: 0, degraded: 0, critical: 0 };
  const offline: Array<{ agent_id: string; last_heartbeat: string | null }> = [];
  for (const a of agents) {
    const status = a.status as AgentStatus;
    const clientId = String(a.client_id);
    if (status === 'deleted') {
      counts.deleted++;
      continue;
    }
    const row = byClient.get(clientId) ?? { client_id: clientId, online: 0, offline: 0 };
    byClient.set(clientId, row);
    if (status === 'online' || status === 'switching') {
      counts.online++;
      row.online++;
    } else if (status === 'disabled') {
      counts.disabled++;
    } else {
      if (status === 'error') counts.error++;
      else counts.offline++;
      row.offline++;
      offline.push({ agent_id: String(a.id), last_heartbeat: a.last_heartbeat_at ?? null });
    }
    if (status !== 'disabled') distribution[heartbeatBucket(a.last_heartbeat_at, now)]++;
  }
  offline.sort((x, y) => (y.last_heartbeat ?? '').localeCompare(x.last_heartbeat ?? ''));
  return {
    online: counts.online,
    offline: counts.offline,
    disabled: counts.disabled,
    deleted: counts.deleted,
    error: counts.error,
    by_client: [...byClient.values()].sort((x, y) => x.client_id.localeCompare(y.client_id)),
    recent_offline: offline.slice(0, 20),
    heartbeat_distribution: distribution,
  };
}

// ---- GET /api/admin/metrics/operational ----

const WINDOW_MS: Record<string, number> = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

/**
 * Operations dashboard over a window (hour granularity). Sources, all Queries on documented keys:
 * - heartbeat_miss_rate: point-in-time share of enabled live agents whose last heartbeat is over
 *   60 s old (≥ 2 missed 30 s heartbeats); the timeouts in the window come from the
 *   agent-heartbeat-timeout job's run records and are returned as `heartbeat_timeouts`;
 * - switches and downtime: the hourly counters (shared/stats.ts);
 * - emergency: the incidents index (GSI2 `INCIDENTS`, detected within the window); the ratio is
 *   over PRIMARY terminations (the ones that need a failover);
 * - commands: pending now (GSI2 `COMMANDS#OPEN`), expired in the window (command-expiry run records);
 * - newest_price_age_seconds: the newest `priced_at` among POOL items (GSI2 `POOLS`).
 */
export async function operationalMetrics(window: '1h' | '24h' | '7d', now: Date) {
  const from = new Date(now.getTime() - (WINDOW_MS[window] ?? WINDOW_MS['24h'] ?? 0));
  const fromIso = from.toISOString();
  const nowIso = now.toISOString();
  const [agents, timeoutRuns, buckets, incidents, pending, expiryRuns, newestPrice] = await Promise.all([
    adminRepo.allAgents(['status', 'enabled', 'last_heartbeat_at']),
    adminRepo.jobRunsBetween('agent-heartbeat-timeout', fromIso, nowIso),
    statsRepo.hours(from, now),
    incidentsRepo.listForAdmin({ since: fromIso }, 'all'),
    adminRepo.countPendingCommands(),
    adminRepo.jobRunsBetween('command-expiry', fromIso, nowIso),
    adminRepo.newestPricedAt(),
  ]);
  const expected = agents.filter((a) => a.status !== 'deleted' && a.status !== 'disabled' && a.enabled !== false);
  const late = expected.filter((a) => heartbeatBucket(a.last_heartbeat_at, now) !== 'healthy').length;
  const runSum = (runs: Record<string, unknown>[], field: string) =>
    runs.reduce((acc, r) => acc + Number((r.summary as Record<string, unknown> | undefined)?.[field] ?? 0), 0);
  const downtime = downtimeSummary(buckets);
  const failovers = incidents.items.filter(
    (i) => (i.signal_type === 'termination' || i.signal_type === 'instance_terminated') && i.instance_role === 'PRIMARY',
  );
  const fast = failovers.filter((i) => i.outcome === 'promoted' && i.failover_time_ms !== null && i.failover_time_ms <= 120_000);
  return {
    window,
    from: fromIso,
    heartbeat_miss_rate: expected.length > 0 ? round(late / expected.length, 4) : null,
    heartbeat_timeouts: runSum(timeoutRuns, 'marked_offline'),
    switches: { total: sumCounter(buckets, 'switches_total'), failed: sumCounter(buckets, 'switches_failed') },
    switch_downtime_seconds: { avg: downtime.avg, p95: downtime.p95, max: downtime.max },
    emergency: {
      events: incidents.items.length,
      promoted_within_120s_ratio: failovers.length > 0 ? round(fast.length / failovers.length, 4) : null,
    },
    commands: { pending, expired: runSum(expiryRuns, 'expired') },
    newest_price_age_seconds: newestPrice ? Math.max(0, Math.round((now.getTime() - Date.parse(newestPrice)) / 1000)) : null,
  };
}

import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { deleteAgentCascade, setAgentEnabled } from '../shared/flows/agent-lifecycle.js';
import { agentView } from '../shared/views/agent.js';
import { instanceView } from '../shared/views/instance.js';
import { JOBS } from '../jobs/job-table.js';
import { config } from '../shared/config.js';
import { adminRepo } from '../shared/db/admin-repo.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { clientsRepo } from '../shared/db/clients-repo.js';
import { incidentsRepo } from '../shared/db/incidents-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { jobsRepo } from '../shared/db/jobs-repo.js';
import { savingsRepo } from '../shared/db/savings-repo.js';
import { type SearchKind, searchRepo } from '../shared/db/search-repo.js';
import { statsRepo } from '../shared/db/stats-repo.js';
import { switchesRepo } from '../shared/db/switches-repo.js';
import { uploadsRepo } from '../shared/db/uploads-repo.js';
import { AppError, ValidationError } from '../shared/domain/errors.js';
import type { Agent, AgentStatus, Client, Instance, InstanceRole } from '../shared/domain/types.js';
import { logger } from '../shared/observability.js';
import { downtimeSummary, sumCounter } from '../shared/stats.js';
import { retireZombie } from '../shared/zombies.js';
import { mapLimit } from '../shared/concurrency.js';

/** One SQS client per container (system-health reads the EC2-events DLQ depth). */
export const sqsClient = new SQSClient({});

const ADMIN = { kind: 'admin' } as const;

const round = (v: number, digits = 6): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** `client_name` of each client id (one BatchGet for a page). */
const clientNames = (ids: string[]) => clientsRepo.names(ids);

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

// ---- GET /api/admin/clients ----

export async function listClients(query: { status?: Client['status']; limit: number; nextToken?: string }) {
  const filter = query.status ? { statuses: [query.status] } : { notDeleted: true };
  const page = await adminRepo.clientsPage(query.limit, query.nextToken, filter);
  const clients = await mapLimit(page.items, 8, async (c) => {
    const [online, active] = await Promise.all([
      adminRepo.countClientAgents(c.id, { statuses: ['online', 'switching'] }),
      adminRepo.countClientInstances(c.id, { roles: ['PRIMARY', 'REPLICA'] }),
    ]);
    const raw = c as Client & { agents_live?: number };
    return {
      id: c.id,
      name: c.name,
      email: c.email ?? null,
      status: c.status,
      plan: c.plan ?? null,
      agents_online: online,
      agents_total: Math.max(0, Number(raw.agents_live ?? 0)),
      instances_active: active,
      total_savings: round(Number(c.total_savings ?? 0)),
      last_sync_at: c.last_sync_at ?? null,
      created_at: c.created_at,
    };
  });
  return { clients, nextToken: page.nextToken };
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

// ---- GET /api/admin/activity ----

const activityView = (n: Record<string, unknown>) => ({
  id: String(n.id),
  type: String(n.type),
  severity: n.severity as string,
  message: String(n.message ?? ''),
  client_id: (n.client_id as string | null | undefined) ?? null,
  agent_id: (n.agent_id as string | null | undefined) ?? null,
  created_at: String(n.created_at),
});

/** Recent system events (every notification, newest first; GSI3 `ACTIVITY`, or one client's GSI1). */
export async function listActivity(query: { type?: string; client_id?: string; limit: number; nextToken?: string }) {
  const page = await adminRepo.notificationsPage(
    query.client_id ? { clientId: query.client_id } : 'all',
    query.limit,
    query.nextToken,
    query.type ? { type: query.type } : undefined,
  );
  return { events: page.items.map(activityView), nextToken: page.nextToken };
}

// ---- GET /api/admin/system-health ----

/** Expected period of a job from its EventBridge expression (rate(N unit) or a daily cron). */
export function expectedPeriodSeconds(schedule: string): number {
  const rate = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(schedule.trim());
  if (rate) {
    const n = Number(rate[1]);
    const unit = rate[2] ?? '';
    return n * (unit.startsWith('minute') ? 60 : unit.startsWith('hour') ? 3600 : 86_400);
  }
  return 86_400; // the cron jobs of job-table.ts run daily
}

/** DLQ depth (visible + in flight), or null when no DLQ is configured or it cannot be read. */
export async function dlqDepth(): Promise<number | null> {
  const url = config.dlqUrl;
  if (!url) return null;
  try {
    const out = await sqsClient.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const attrs = out.Attributes ?? {};
    return Number(attrs.ApproximateNumberOfMessages ?? 0) + Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0);
  } catch (err) {
    logger.warn('could not read the DLQ depth', { error: err as Error });
    return null;
  }
}

async function safely<T>(what: string, fn: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    logger.warn(`system-health: ${what} failed`, { error: err as Error });
    return fallback;
  }
}

/**
 * Component health: the table (one GetItem, 1 s budget), the decision engine pointer, agents,
 * each scheduled job's last run and freshness (a job is stale when its last run is older than
 * twice its period), the EC2 event feed, and the DLQ depth when EVENTS_DLQ_URL is set.
 */
export async function systemHealth(now: Date) {
  const reachable = await adminRepo.ping(1000);
  const [pointer, online, offline, jobs, ec2At, depth] = await Promise.all([
    safely('engine pointer', () => uploadsRepo.pointer(false), undefined),
    safely('online agents', () => adminRepo.countOnlineAgents(), 0),
    safely('offline agents', () => adminRepo.countAgents({ statuses: ['offline', 'error'] }), 0),
    Promise.all(
      JOBS.map(async (job) => {
        const lease = await safely(`lease ${job.name}`, () => jobsRepo.getLease(job.name), undefined);
        const lastRunAt = lease?.last_finished_at ?? lease?.last_started_at ?? null;
        const period = expectedPeriodSeconds(job.schedule);
        const fresh = lastRunAt !== null && now.getTime() - Date.parse(lastRunAt) <= 2 * period * 1000;
        return {
          name: job.name,
          last_run_at: lastRunAt,
          last_status: lease?.last_status ?? (lease?.holder ? 'running' : null),
          expected_every_seconds: period,
          fresh,
        };
      }),
    ),
    safely('ec2 events meta', () => adminRepo.ec2EventsLastReceivedAt(), null),
    dlqDepth(),
  ]);
  const staleJobs = jobs.filter((j) => !j.fresh).map((j) => j.name);
  return {
    api_status: reachable ? (staleJobs.length === 0 && (depth ?? 0) === 0 ? 'healthy' : 'degraded') : 'unhealthy',
    database: reachable ? 'healthy' : 'unreachable',
    decision_engine: pointer?.active_upload_id ? 'active_upload' : 'default_parameters',
    active_upload_id: pointer?.active_upload_id ?? null,
    agents: { online, offline },
    jobs,
    stale_jobs: staleJobs,
    ec2_events_last_received_at: ec2At,
    dlq: { configured: Boolean(config.dlqUrl), depth },
    checked_at: now.toISOString(),
  };
}

// ---- GET /api/admin/instances ----

const ROLES_OF_STATUS: Record<string, InstanceRole[]> = {
  active: ['PRIMARY', 'REPLICA'],
  zombie: ['ZOMBIE'],
  terminated: ['TERMINATED'],
  all: ['PRIMARY', 'REPLICA', 'ZOMBIE', 'TERMINATED'],
};

/** The list token spans role partitions: which partition, and the token inside it. */
interface RoleToken {
  r: number;
  t: string | null;
}

function decodeRoleToken(token: string | undefined): RoleToken {
  if (!token) return { r: 0, t: null };
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as RoleToken;
    if (!Number.isInteger(parsed.r) || parsed.r < 0 || parsed.r > 3 || (parsed.t !== null && typeof parsed.t !== 'string')) {
      throw new Error('bad token');
    }
    return parsed;
  } catch {
    throw new ValidationError('nextToken is not valid', [{ field: 'query.nextToken', issue: 'invalid' }], 'INVALID_NEXT_TOKEN');
  }
}

const encodeRoleToken = (t: RoleToken): string => Buffer.from(JSON.stringify(t)).toString('base64url');

export async function listInstances(query: {
  status?: 'active' | 'zombie' | 'terminated' | 'all';
  mode?: 'spot' | 'ondemand';
  region?: string;
  client_id?: string;
  limit: number;
  nextToken?: string;
}) {
  const roles = ROLES_OF_STATUS[query.status ?? 'all'] ?? [];
  const filter = { ...(query.mode ? { mode: query.mode } : {}), ...(query.region ? { region: query.region } : {}) };
  let items: Instance[] = [];
  let nextToken: string | null;
  if (query.client_id) {
    const page = await adminRepo.instancesPage({ clientId: query.client_id }, query.limit, query.nextToken, { ...filter, roles });
    items = page.items;
    nextToken = page.nextToken;
  } else {
    // Role partitions one after the other; the token remembers the partition and the position in it.
    let position = decodeRoleToken(query.nextToken);
    while (position.r < roles.length && items.length < query.limit) {
      const role = roles[position.r] as InstanceRole;
      const page = await adminRepo.instancesPage({ role }, query.limit - items.length, position.t ?? undefined, filter);
      items.push(...page.items.filter((i) => i.role === role));
      position = page.nextToken ? { r: position.r, t: page.nextToken } : { r: position.r + 1, t: null };
    }
    nextToken = position.r < roles.length ? encodeRoleToken(position) : null;
  }
  const names = await clientNames(items.map((i) => i.client_id));
  return {
    instances: items.map((i) => ({ ...instanceView(i), client_name: names.get(i.client_id) ?? null })),
    nextToken,
  };
}

// ---- GET /api/admin/agents ----

export async function listAgents(query: { status?: AgentStatus; client_id?: string; limit: number; nextToken?: string }) {
  const filter = query.status ? { statuses: [query.status] } : { notDeleted: true };
  const page = await adminRepo.agentsPage(query.limit, query.nextToken, filter, query.client_id);
  const names = await clientNames(page.items.map((a) => a.client_id));
  return {
    agents: page.items.map((a) => ({ ...agentView(a), client_name: names.get(a.client_id) ?? null })),
    nextToken: page.nextToken,
  };
}

// ---- GET /api/admin/search ----

export const SEARCH_LIMIT = 20;

const clientSearchView = (c: Client) => ({
  id: c.id,
  name: c.name,
  email: c.email ?? null,
  plan: c.plan ?? null,
  status: c.status,
  created_at: c.created_at,
});

/** Exact id first, then prefix matches from the search index, verified against the entity itself. */
const searchKind = (kind: SearchKind, q: string) =>
  searchRepo.find(kind, q, SEARCH_LIMIT, (err) => logger.warn('search cleanup failed', { error: err as Error }));

export async function search(q: string, types: Array<'clients' | 'instances' | 'agents'> | undefined) {
  const wanted = new Set(types ?? ['clients', 'instances', 'agents']);
  const [clients, agents, instances] = await Promise.all([
    wanted.has('clients') ? searchKind('client', q) : Promise.resolve([]),
    wanted.has('agents') ? searchKind('agent', q) : Promise.resolve([]),
    wanted.has('instances') ? searchKind('instance', q) : Promise.resolve([]),
  ]);
  const names = await clientNames([...agents, ...instances].map((i) => String(i.client_id)));
  return {
    query: q,
    results: {
      clients: clients.map((c) => clientSearchView(c as unknown as Client)),
      agents: agents.map((a) => ({ ...agentView(a as unknown as Agent), client_name: names.get(String(a.client_id)) ?? null })),
      instances: instances.map((i) => ({ ...instanceView(i as unknown as Instance), client_name: names.get(String(i.client_id)) ?? null })),
    },
  };
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

// ---- POST /api/admin/bulk/execute ----

export type BulkOperation = 'enable_agents' | 'disable_agents' | 'delete_agents' | 'terminate_zombies';

interface BulkResult {
  agent_id: string;
  status: string;
  error?: string;
  zombies_terminated?: number;
  commands_queued?: number;
}

const failure = (agentId: string, err: unknown): BulkResult => ({
  agent_id: agentId,
  status: 'failed',
  error: err instanceof AppError ? err.code : 'INTERNAL_ERROR',
});

/**
 * One agent's part of a bulk operation. Each is safe to repeat: an agent already in the target
 * state answers `unchanged` without writing, and terminate_zombies only touches current ZOMBIEs
 * (shared/zombies.ts). A replayed request with the same Idempotency-Key gets the stored answer.
 */
async function bulkOne(operation: BulkOperation, agentId: string, now: Date): Promise<BulkResult> {
  const agent = await agentsRepo.get(agentId);
  if (!agent) return { agent_id: agentId, status: 'failed', error: 'NOT_FOUND' };
  if (operation === 'delete_agents') {
    if (agent.status === 'deleted') return { agent_id: agentId, status: 'unchanged' };
    await deleteAgentCascade(agent, now);
    return { agent_id: agentId, status: 'deleted' };
  }
  if (agent.status === 'deleted') return { agent_id: agentId, status: 'failed', error: 'AGENT_DELETED' };
  if (operation === 'enable_agents' || operation === 'disable_agents') {
    const enabled = operation === 'enable_agents';
    if (agent.config.enabled === enabled) return { agent_id: agentId, status: 'unchanged' };
    await setAgentEnabled(ADMIN, agentId, enabled, undefined, now);
    return { agent_id: agentId, status: enabled ? 'enabled' : 'disabled' };
  }
  const zombies = await instancesRepo.listByAgent(agentId, 'ZOMBIE');
  let terminated = 0;
  let queued = 0;
  for (const zombie of zombies) {
    const outcome = await retireZombie(agent, zombie, now, {
      trigger: 'manual',
      createdBy: 'admin',
      reason: 'admin bulk terminate_zombies',
    });
    if (outcome.status === 'terminated') terminated++;
    if (outcome.command_queued) queued++;
  }
  return {
    agent_id: agentId,
    status: terminated + queued > 0 ? 'zombies_terminated' : 'unchanged',
    zombies_terminated: terminated,
    commands_queued: queued,
  };
}

export async function bulkExecute(body: { operation: BulkOperation; agent_ids: string[] }, now: Date) {
  const ids = [...new Set(body.agent_ids.map((id) => id.toLowerCase()))];
  const results = await mapLimit(ids, 8, async (id) => {
    try {
      return await bulkOne(body.operation, id, now);
    } catch (err) {
      // A concurrent change (e.g. deleted meanwhile) is reported for that item; the others go on.
      if (!(err instanceof AppError)) logger.error('bulk item failed', { agentId: id, error: err as Error });
      return failure(id, err);
    }
  });
  const failed = results.filter((r) => r.status === 'failed').length;
  return { operation: body.operation, succeeded: results.length - failed, failed, results };
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

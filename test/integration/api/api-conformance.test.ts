/**
 * API.md conformance of the non-wire routes (the 18 AGENT WIRE CONTRACT routes have their own suite,
 * wire-contract.test.ts): client routes (§3.2 getClient/validate, §3.4, §3.6, §3.8, §3.11, §3.12,
 * §3.13), admin routes (§3.2 client management, §3.3, §3.9 model registry) and the agent routes
 * outside the wire contract. The key table below is written from API.md, so a missing key fails
 * (values may be null, API.md §1.2); every route of the table is driven once with realistic data,
 * plus the documented query ranges/defaults, list pagination and status codes.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../../functions/route-table.js';
import { SETTLE_MS } from '../../../functions/events/service.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { type ApiResponse, invoke } from '../../support/http.js';
import { launchedReplica, seedPool as seedRiskPool } from '../../support/interruption.js';
import { seedCommand, seedNotification } from '../../support/seed.js';
import { type ErrorBody, newTenant, registerAgent, seedPool, setInstancePrices, switchReport, type TestTenant } from '../../support/tenants.js';

type Json = Record<string, unknown>;
type Group = Parameters<typeof invoke>[0];

// --- The contract, from API.md -------------------------------------------------------------------

/** §3.0 Agent, with the fields describing its current PRIMARY. */
const AGENT = [
  'id', 'client_id', 'logical_agent_id', 'hostname', 'agent_version', 'status', 'enabled', 'last_heartbeat_at',
  'notice_status', 'notice_deadline', 'config', 'created_at', 'deleted_at', 'version',
  'instance_id', 'instance_type', 'region', 'az', 'current_mode', 'current_pool_id', 'private_ip', 'public_ip',
];
/** §4.5 AgentConfig. */
const CONFIG = [
  'enabled', 'auto_switch_enabled', 'auto_terminate_enabled', 'terminate_wait_seconds', 'manual_replica_enabled',
  'replica_enabled', 'replica_count', 'min_savings_percent', 'risk_threshold', 'max_switches_per_week',
  'max_switches_per_day', 'min_pool_duration_hours', 'config_version',
];
/** §3.0 Instance. */
const INSTANCE = [
  'id', 'instance_id', 'client_id', 'agent_id', 'instance_type', 'region', 'az', 'mode', 'pool_id', 'role',
  'instance_status', 'is_primary', 'is_active', 'spot_price', 'ondemand_price', 'baseline_ondemand_price',
  'notice_status', 'last_seen_at', 'zombie_since', 'terminated_at', 'termination_confirmed', 'version',
];
/** §3.0 Replica. */
const REPLICA = [
  'id', 'agent_id', 'instance_id', 'type', 'status', 'is_active', 'sync_status', 'sync_latency_ms',
  'state_transfer_progress', 'pool_id', 'az', 'instance_type', 'pool', 'cost', 'parent_instance_id', 'error_message',
  'created_at', 'terminated_at', 'termination_confirmed', 'version',
];
/** §4.1 Command. */
const COMMAND = [
  'id', 'agent_id', 'instance_id', 'command_type', 'target_mode', 'target_pool_id', 'replica_id',
  'terminate_wait_seconds', 'priority', 'status', 'trigger_type', 'created_by', 'reason', 'created_at', 'delivered_at',
  'completed_at', 'expires_at', 'success', 'message', 'version',
];
/** §3.0 Switch. */
const SWITCH = [
  'id', 'agent_id', 'command_id', 'trigger_type', 'old_instance_id', 'new_instance_id', 'old_mode', 'new_mode',
  'old_pool_id', 'new_pool_id', 'on_demand_price', 'old_price', 'new_price', 'savings_impact', 'downtime_seconds',
  'initiated_at', 'completed_at', 'timing', 'old_instance_outcome',
];
const POOL_PRICE = ['pool_id', 'az', 'instance_type', 'price', 'savings_percent', 'risk_score'];
const NOTIFICATION = ['id', 'client_id', 'type', 'severity', 'message', 'agent_id', 'is_read', 'created_at'];
const EMERGENCY_EVENT = [
  'id', 'agent_id', 'instance_id', 'signal_type', 'sources', 'detected_at', 'deadline', 'action_taken', 'replica_id',
  'command_id', 'outcome', 'failover_time_ms', 'resolved_at',
];
const PRICING_ALERT = [
  'alert_id', 'alert_type', 'threshold', 'pool_id', 'enabled', 'notification_channels', 'webhook_url',
  'last_triggered_at', 'version',
];
const DECISION = [
  'decision_id', 'decision_type', 'recommended_action', 'recommended_mode', 'recommended_pool_id', 'risk_score',
  'expected_savings_per_hour', 'confidence', 'allowed', 'reason',
];
const VOLATILITY = ['pool_id', 'avg_price', 'price_stddev', 'volatility_score', 'volatility_category', 'risk_score'];
const UPLOAD = ['upload_id', 'kind', 'status', 'name', 'sha256', 'created_at'];

/**
 * Route → the top-level keys API.md lists (`?` keys included). A nested check is `key: [subkeys]`
 * for an object, or `key[]: [subkeys]` for each item of an array.
 */
const KEYS: Record<string, Record<string, readonly string[]> | null> = {
  // §3.2 clients
  'POST /api/admin/clients/create': {
    '': ['client'],
    'client': ['id', 'name', 'email', 'plan', 'max_agents', 'aws_account_ids', 'status', 'token', 'created_at', 'version'],
  },
  'DELETE /api/admin/clients/{cid}': { '': ['client_id', 'status', 'agents_deleted'] },
  'POST /api/admin/clients/{cid}/regenerate-token': { '': ['client_id', 'token', 'previous_token_valid_until'] },
  'GET /api/admin/clients/{cid}/token': {
    '': ['client_id', 'client_name', 'token', 'token_hint', 'created_at', 'message'],
  },
  'GET /api/client/validate': { '': ['valid', 'role', 'client_id', 'name', 'email', 'status'] },
  'GET /api/client/{cid}': {
    '': [
      'id', 'name', 'email', 'status', 'plan', 'max_agents', 'agents_online', 'agents_total', 'instances_active',
      'total_savings', 'last_sync_at', 'created_at', 'version',
    ],
  },
  // §3.3 admin
  'GET /api/admin/stats': {
    '': [
      'total_clients', 'agents_online', 'agents_total', 'instances_active', 'pools_covered', 'total_savings', 'switches',
      'decision_engine',
    ],
    'switches': ['total', 'manual', 'model', 'emergency'],
    'decision_engine': ['loaded', 'active_upload_id'],
  },
  'GET /api/admin/clients': {
    '': ['clients', 'nextToken'],
    'clients[]': [
      'id', 'name', 'email', 'status', 'agents_online', 'agents_total', 'instances_active', 'total_savings',
      'last_sync_at',
    ],
  },
  'GET /api/admin/clients/growth': { '': ['series'], 'series[]': ['date', 'total', 'new', 'active'] },
  'GET /api/admin/activity': {
    '': ['events', 'nextToken'],
    'events[]': ['id', 'type', 'severity', 'message', 'client_id', 'agent_id', 'created_at'],
  },
  'GET /api/admin/system-health': {
    '': ['api_status', 'database', 'decision_engine', 'agents', 'jobs', 'ec2_events_last_received_at'],
    'agents': ['online', 'offline'],
    'jobs[]': ['name', 'last_run_at', 'last_status'],
  },
  'GET /api/admin/instances': { '': ['instances', 'nextToken'], 'instances[]': [...INSTANCE, 'client_name'] },
  'GET /api/admin/agents': { '': ['agents', 'nextToken'], 'agents[]': [...AGENT, 'client_name'] },
  'GET /api/admin/search': { '': ['query', 'results'], 'results': ['clients', 'instances', 'agents'] },
  'GET /api/admin/pools/statistics': {
    '': ['total_pools', 'active_pools', 'regions', 'high_risk_pools'],
    'regions[]': ['region', 'pools', 'average_price'],
    'high_risk_pools[]': ['pool_id', 'risk_score'],
  },
  'GET /api/admin/agents/health-summary': {
    '': ['online', 'offline', 'disabled', 'deleted', 'by_client', 'recent_offline', 'heartbeat_distribution'],
    'by_client[]': ['client_id', 'online', 'offline'],
    'recent_offline[]': ['agent_id', 'last_heartbeat'],
    'heartbeat_distribution': ['healthy', 'degraded', 'critical'],
  },
  'POST /api/admin/bulk/execute': {
    '': ['operation', 'succeeded', 'failed', 'results'],
    'results[]': ['agent_id', 'status'],
  },
  'GET /api/admin/metrics/operational': {
    '': [
      'heartbeat_miss_rate', 'switches', 'switch_downtime_seconds', 'emergency', 'commands', 'newest_price_age_seconds',
    ],
    'switches': ['total', 'failed'],
    'switch_downtime_seconds': ['avg', 'p95'],
    'emergency': ['events', 'promoted_within_120s_ratio'],
    'commands': ['pending', 'expired'],
  },
  'GET /api/admin/consolidation-jobs': {
    '': ['jobs', 'nextToken'],
    'jobs[]': [
      'id', 'status', 'window_start', 'window_end', 'finished_at', 'points_read', 'duplicates_removed',
      'points_interpolated', 'error',
    ],
  },
  'GET /api/admin/emergency-events': {
    '': ['summary', 'events', 'nextToken'],
    'summary': ['total', 'by_signal', 'by_outcome', 'avg_failover_ms'],
    'events[]': EMERGENCY_EVENT,
  },
  // §3.4 agents (non-wire)
  'POST /api/agents/{aid}/termination': { '': ['success', 'agent_id', 'status'] },
  'GET /api/client/{cid}/agents': { '': ['agents', 'nextToken'], 'agents[]': AGENT },
  'GET /api/client/{cid}/agents/history': { '': ['agents', 'nextToken'], 'agents[]': AGENT },
  'POST /api/client/agents/{aid}/toggle-enabled': { '': ['agent_id', 'config', 'version'], 'config': CONFIG },
  'POST /api/client/agents/{aid}/config': {
    '': ['agent_id', 'config', 'version', 'side_effects'],
    'config': CONFIG,
    'side_effects': ['replicas_terminated', 'replica_requested', 'commands_cancelled'],
  },
  'POST /api/client/agents/{aid}/settings': {
    '': ['agent_id', 'config', 'version', 'side_effects'],
    'side_effects': ['replicas_terminated', 'replica_requested', 'commands_cancelled'],
  },
  'DELETE /api/client/agents/{aid}': { '': ['agent_id', 'status', 'replicas_terminated', 'commands_cancelled'] },
  // §3.5 commands (non-wire)
  'POST /api/agents/{aid}/issue-switch-command': { '': COMMAND },
  'POST /api/client/instances/{iid}/force-switch': { '': COMMAND },
  // §3.6 replicas (non-wire)
  'DELETE /api/agents/{aid}/replicas/{rid}': { '': ['success', 'message', 'replica_id', 'status'] },
  'POST /api/agents/{aid}/replicas/{rid}/promote': {
    '': ['success', 'replica_id', 'new_instance_id', 'old_instance_id', 'demoted', 'switch_id'],
  },
  'POST /api/agents/{aid}/replicas/{rid}/sync-status': { '': ['success', 'replica_id', 'status', 'sync_status'] },
  'GET /api/agents/{aid}/replica-config': { '': ['enabled', 'count'] },
  'GET /api/client/{cid}/replicas': {
    '': ['replicas'],
    'replicas[]': ['agent_id', 'primary', 'replica'],
  },
  // §3.7 emergency (non-wire)
  'GET /api/agents/{aid}/emergency-status': {
    '': [
      'emergency_mode_active', 'notice_status', 'notice_deadline', 'rebalance_only_mode', 'decision_engine_active',
      'last_emergency_event', 'emergency_replicas_count', 'active_replica',
    ],
  },
  // §3.8 instances & pricing
  'GET /api/client/{cid}/instances': { '': ['instances', 'nextToken'], 'instances[]': INSTANCE },
  'GET /api/client/instances/{iid}/pricing': {
    '': ['current_mode', 'current_pool', 'on_demand', 'pools'],
    'current_pool': ['id', 'az', 'price'],
    'on_demand': ['price'],
    'pools[]': POOL_PRICE,
  },
  'GET /api/client/instances/{iid}/metrics': {
    '': [
      'role', 'spot_price', 'ondemand_price', 'baseline_ondemand_price', 'uptime_hours', 'hours_since_last_switch',
      'total_switches', 'savings_rate_per_hour', 'total_savings',
    ],
  },
  'GET /api/client/instances/{iid}/price-history': {
    '': ['pools', 'points'],
    'pools[]': ['pool_id', 'az'],
    'points[]': ['time', 'on_demand', 'prices'],
  },
  'GET /api/client/pricing-history': {
    '': ['agent_id', 'instance_type', 'region', 'history'],
    'history[]': ['timestamp', 'ondemand_price', 'spot_pools'],
  },
  'GET /api/client/instances/{iid}/available-options': {
    '': ['current_type', 'current_az', 'available_pools', 'available_types'],
    'available_pools[]': POOL_PRICE,
    'available_types[]': ['instance_type', 'switchable'],
  },
  'GET /api/client/instances/{iid}/logs': {
    '': ['events', 'nextToken'],
    'events[]': ['id', 'timestamp', 'event_type', 'severity', 'message', 'metadata'],
  },
  'GET /api/client/instances/{iid}/pool-volatility': {
    '': ['current_pool', 'alternative_pools'],
    'current_pool': VOLATILITY,
    'alternative_pools[]': VOLATILITY,
  },
  'POST /api/client/instances/{iid}/simulate-switch': {
    '': [
      'current_price', 'target_pool_id', 'target_price', 'hourly_savings', 'daily_savings', 'monthly_savings',
      'estimated_downtime_seconds', 'confidence', 'recommendation', 'reasons',
    ],
  },
  // §3.9 decisions
  'POST /api/agents/{aid}/decide': { '': DECISION },
  'GET /api/agents/{aid}/switch-recommendation': {
    '': ['recommendation', 'auto_switch_enabled', 'will_auto_execute', 'current_pool', 'alternative_pools'],
    'recommendation': DECISION,
    'alternative_pools[]': POOL_PRICE,
  },
  'GET /api/agents/{aid}/statistics': {
    '': [
      'total_decisions', 'switches_executed', 'success_rate', 'average_confidence', 'last_decision_at',
      'avg_downtime_seconds', 'total_savings_generated',
    ],
  },
  'GET /api/client/{cid}/agents/decisions': {
    '': ['agents'],
    'agents[]': ['agent_id', 'status', 'is_healthy', 'last_heartbeat_seconds_ago', 'decision_history'],
  },
  'POST /api/admin/ml-models/upload': { '': UPLOAD },
  'POST /api/admin/decision-engine/upload': { '': UPLOAD },
  'GET /api/admin/ml-models/sessions': {
    '': ['uploads'],
    'uploads[]': ['upload_id', 'kind', 'status', 'files', 'created_at', 'activated_at'],
  },
  // §3.11 analytics & exports (CSV routes: header columns, checked in their own test)
  'GET /api/client/{cid}/savings': {
    '': ['total_savings', 'monthly_savings', 'average_savings_percent', 'savings_by_month', 'as_of'],
    'savings_by_month[]': ['month', 'savings', 'ondemand_cost', 'actual_cost'],
  },
  'GET /api/client/{cid}/switch-history': { '': ['switches', 'total', 'nextToken'], 'switches[]': SWITCH },
  'GET /api/client/{cid}/switches': { '': ['switches', 'total', 'nextToken'], 'switches[]': SWITCH },
  'GET /api/client/{cid}/stats/charts': {
    '': ['savings_trend', 'mode_distribution', 'switch_frequency'],
    'savings_trend[]': ['month', 'savings', 'baseline', 'actual'],
    'mode_distribution[]': ['mode', 'count'],
    'switch_frequency[]': ['date', 'switches'],
  },
  'GET /api/client/{cid}/analytics/downtime': {
    '': [
      'total_switches', 'success_rate', 'total_downtime_seconds', 'average_downtime_seconds', 'p95_downtime_seconds',
      'max_downtime_seconds', 'downtime_by_trigger', 'longest_downtime',
    ],
    'longest_downtime': ['switch_id', 'downtime_seconds'],
  },
  'GET /api/client/{cid}/export/savings': null,
  'GET /api/client/{cid}/export/switch-history': null,
  'GET /api/admin/export/global-stats': null,
  // §3.12 notifications
  'GET /api/notifications': { '': ['notifications', 'unread_count'], 'notifications[]': NOTIFICATION },
  'POST /api/notifications/{nid}/mark-read': { '': ['id', 'is_read'] },
  'POST /api/notifications/mark-all-read': { '': ['updated'] },
  'GET /api/client/{cid}/pricing-alerts': { '': ['alerts'], 'alerts[]': PRICING_ALERT },
  'POST /api/client/{cid}/pricing-alerts': { '': PRICING_ALERT },
  // §3.13 events (format=json)
  'GET /api/events/stream': { '': ['events', 'next_cursor'], 'events[]': ['id', 'type', 'data', 'created_at'] },
};

/** Routes of the table whose answer is a single resource: `version` plus `ETag: "<version>"` (§1.2). */
const SINGLE_RESOURCE = new Set([
  'GET /api/client/{cid}',
  'POST /api/client/agents/{aid}/toggle-enabled',
  'POST /api/client/agents/{aid}/config',
  'POST /api/agents/{aid}/issue-switch-command',
  'POST /api/client/instances/{iid}/force-switch',
  'POST /api/client/{cid}/pricing-alerts',
]);

/** Routes of the table that take `limit` (1–200, default 50) and `nextToken` (§1.2, §3.3, §3.8, §3.11). */
const PAGINATED = [
  'GET /api/admin/clients',
  'GET /api/admin/activity',
  'GET /api/admin/instances',
  'GET /api/admin/agents',
  'GET /api/admin/consolidation-jobs',
  'GET /api/admin/emergency-events',
  'GET /api/client/{cid}/agents',
  'GET /api/client/{cid}/agents/history',
  'GET /api/client/{cid}/instances',
  'GET /api/client/instances/{iid}/logs',
  'GET /api/client/{cid}/switch-history',
  'GET /api/client/{cid}/switches',
];

/** In-scope routes not driven here, with the reason. */
const NOT_DRIVEN: Record<string, string> = {
  // One installation-wide pointer: activating or falling back would change the engine other test
  // files run concurrently (model-registry.test.ts owns the success paths); activate's 422 is here.
  'POST /api/admin/ml-models/fallback': 'global active-upload pointer (model-registry.test.ts)',
};

// --- Helpers ------------------------------------------------------------------------------------

const driven = new Set<string>();

function missing(body: unknown, keys: readonly string[]): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [...keys];
  return keys.filter((k) => !(k in body));
}

/** Asserts the status and every key of the route's table entry (nested ones where present). */
function conform(route: string, res: ApiResponse, status = 200): Json {
  expect(res.status, `${route}: ${res.text}`).toBe(status);
  const spec = KEYS[route];
  if (spec === undefined) throw new Error(`no key table entry for ${route}`);
  driven.add(route);
  if (spec === null) return {};
  const body = res.json as Json;
  for (const [at, keys] of Object.entries(spec)) {
    if (at === '') {
      expect(missing(body, keys), `${route} is missing keys`).toEqual([]);
    } else if (at.endsWith('[]')) {
      const list = body[at.slice(0, -2)];
      expect(Array.isArray(list), `${route}: ${at} is an array`).toBe(true);
      for (const item of list as unknown[]) expect(missing(item, keys), `${route} ${at} is missing keys`).toEqual([]);
    } else if (body[at] !== null) {
      expect(missing(body[at], keys), `${route} ${at} is missing keys`).toEqual([]);
    }
  }
  if (SINGLE_RESOURCE.has(route)) {
    expect(typeof body.version, `${route}: version`).toBe('number');
    expect(res.headers.etag, `${route}: ETag`).toBe(`"${String(body.version)}"`);
  }
  return body;
}

const call = <T = Json>(
  group: Group,
  method: string,
  path: string,
  token: string,
  o: { body?: unknown; query?: Record<string, string | number | boolean> } = {},
) => invoke<T>(group, method, path, { token, ...o });

function expectError(res: ApiResponse, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect((res.json as ErrorBody).error.code).toBe(code);
}

/** A tenant with priced pools (a: current, b: cheaper & safe, c: risky), prices and one completed switch. */
async function pricedTenant(): Promise<TestTenant & { primary: string; oldInstance: string }> {
  const t = await newTenant();
  await seedPool(t.instanceType, 'a', 0.05, { risk: 0.1 });
  await seedPool(t.instanceType, 'b', 0.03, { risk: 0.05 });
  await seedPool(t.instanceType, 'c', 0.02, { risk: 0.8 });
  await setInstancePrices(t.instanceId, 0.05, 0.1);
  const primary = randomInstanceId();
  const report = await invoke<Json>('reporting', 'POST', `/api/agents/${t.agentId}/switch-report`, {
    token: t.token,
    body: switchReport(t, t.instanceId, primary, { downtimeSeconds: 6 }),
  });
  expect(report.status, report.text).toBe(200);
  return { ...t, primary, oldInstance: t.instanceId };
}

// --- Tests ----------------------------------------------------------------------------------------

describe('API.md conformance of the non-wire routes', () => {
  it('the key table names real, non-wire routes only', () => {
    const byKey = new Map(ROUTE_TABLE.map((r) => [`${r.method} ${r.path}`, r]));
    for (const route of [...Object.keys(KEYS), ...Object.keys(NOT_DRIVEN)]) {
      expect(byKey.has(route), `${route} is in the route table`).toBe(true);
      expect(byKey.get(route)?.wire ?? false, `${route} is not a wire route`).toBe(false);
    }
  });

  it('§3.2 clients: create 201, token metadata, regenerate, validate, getClient (version + ETag), delete', async () => {
    const name = `conformance-${randomUUID()}`;
    const created = await call('clients', 'POST', '/api/admin/clients/create', TEST_ADMIN_TOKEN, {
      body: { name, email: 'ops@example.com', plan: 'pro', aws_account_ids: ['123456789012'] },
    });
    const c = conform('POST /api/admin/clients/create', created, 201).client as Json;
    expect(c).toMatchObject({ name, max_agents: 50, version: 1 });
    expect(created.headers.etag).toBe('"1"');
    const dup = await call('clients', 'POST', '/api/admin/clients/create', TEST_ADMIN_TOKEN, { body: { name } });
    expectError(dup, 409, 'ALREADY_EXISTS');

    const cid = c.id as string;
    const token = c.token as string;
    const meta = conform('GET /api/admin/clients/{cid}/token', await call('clients', 'GET', `/api/admin/clients/${cid}/token`, TEST_ADMIN_TOKEN));
    expect(meta.token).toBeNull();
    expect(meta.token_hint as string).toContain(token.slice(0, 4));
    expect(meta.token_hint as string).toContain(token.slice(-4));
    expect(meta.token_hint as string).not.toContain(token.slice(4, -4));

    const asClient = conform('GET /api/client/validate', await call('clients', 'GET', '/api/client/validate', token));
    expect(asClient).toMatchObject({ valid: true, role: 'client', client_id: cid, name, email: 'ops@example.com' });
    const asAdmin = conform('GET /api/client/validate', await call('clients', 'GET', '/api/client/validate', TEST_ADMIN_TOKEN));
    expect(asAdmin).toMatchObject({ valid: true, role: 'admin' });

    await registerAgent(token, `zz${randomUUID().slice(0, 6)}.large`);
    const overview = conform('GET /api/client/{cid}', await call('clients', 'GET', `/api/client/${cid}`, token));
    expect(overview).toMatchObject({ id: cid, agents_total: 1, agents_online: 1, instances_active: 1 });

    const regen = conform(
      'POST /api/admin/clients/{cid}/regenerate-token',
      await call('clients', 'POST', `/api/admin/clients/${cid}/regenerate-token`, TEST_ADMIN_TOKEN, {
        body: { grace_period_seconds: 60 },
      }),
    );
    expect(typeof regen.previous_token_valid_until).toBe('string');
    const badGrace = await call('clients', 'POST', `/api/admin/clients/${cid}/regenerate-token`, TEST_ADMIN_TOKEN, {
      body: { grace_period_seconds: 86_401 },
    });
    expectError(badGrace, 400, 'VALIDATION_ERROR');

    const deleted = conform('DELETE /api/admin/clients/{cid}', await call('clients', 'DELETE', `/api/admin/clients/${cid}`, TEST_ADMIN_TOKEN));
    expect(deleted).toMatchObject({ client_id: cid, status: 'deleted', agents_deleted: 1 });
  });

  it('§3.3 admin: every route answers its documented keys (nested shapes included)', async () => {
    const t = await pricedTenant();
    await seedRiskPool(t.instanceType, 'us-east-1d', 0.04, 0.9);
    const get = (path: string, query?: Record<string, string | number>) =>
      call('admin', 'GET', path, TEST_ADMIN_TOKEN, query ? { query } : {});

    const stats = conform('GET /api/admin/stats', await get('/api/admin/stats'));
    expect((stats.switches as Json).total as number).toBeGreaterThanOrEqual(1);
    conform('GET /api/admin/clients', await get('/api/admin/clients', { limit: 5 }));
    const growth = conform('GET /api/admin/clients/growth', await get('/api/admin/clients/growth'));
    expect(growth.series as unknown[]).toHaveLength(30);
    expect((conform('GET /api/admin/clients/growth', await get('/api/admin/clients/growth', { days: 365 })).series as unknown[]).length).toBe(365);
    for (const days of [0, 366]) expectError(await get('/api/admin/clients/growth', { days }), 400, 'VALIDATION_ERROR');

    await seedNotification(t.clientId, { severity: 'warning', agentId: t.agentId });
    const activity = conform('GET /api/admin/activity', await get('/api/admin/activity', { client_id: t.clientId }));
    expect((activity.events as unknown[]).length).toBeGreaterThanOrEqual(1);
    const health = conform('GET /api/admin/system-health', await get('/api/admin/system-health'));
    expect(Array.isArray(health.jobs)).toBe(true);
    const instances = conform('GET /api/admin/instances', await get('/api/admin/instances', { client_id: t.clientId, status: 'all' }));
    expect((instances.instances as Json[]).map((i) => i.id)).toEqual(expect.arrayContaining([t.primary, t.oldInstance]));
    const agents = conform('GET /api/admin/agents', await get('/api/admin/agents', { client_id: t.clientId }));
    expect((agents.agents as Json[]).map((a) => a.id)).toEqual([t.agentId]);
    const search = conform('GET /api/admin/search', await get('/api/admin/search', { q: t.agentId }));
    expect(((search.results as Json).agents as Json[]).length).toBe(1);
    expectError(await get('/api/admin/search', { q: 'x' }), 400, 'VALIDATION_ERROR');
    const pools = conform('GET /api/admin/pools/statistics', await get('/api/admin/pools/statistics', { instance_type: t.instanceType }));
    expect(pools).toMatchObject({ total_pools: 4, active_pools: 4 });
    expect((pools.high_risk_pools as Json[]).map((p) => p.pool_id).sort()).toEqual([
      `${t.instanceType}.us-east-1c`,
      `${t.instanceType}.us-east-1d`,
    ]);
    conform('GET /api/admin/agents/health-summary', await get('/api/admin/agents/health-summary'));
    conform('GET /api/admin/metrics/operational', await get('/api/admin/metrics/operational'));
    for (const window of ['1h', '7d']) conform('GET /api/admin/metrics/operational', await get('/api/admin/metrics/operational', { window }));
    expectError(await get('/api/admin/metrics/operational', { window: '30d' }), 400, 'VALIDATION_ERROR');
    conform('GET /api/admin/consolidation-jobs', await get('/api/admin/consolidation-jobs'));

    // An emergency event of this client, through the agent's rebalance notice.
    const rebalance = await call('emergency', 'POST', `/api/agents/${t.agentId}/rebalance-recommendation`, t.token, {
      body: { instance_id: t.primary },
    });
    expect(rebalance.status, rebalance.text).toBe(200);
    const emergency = conform('GET /api/admin/emergency-events', await get('/api/admin/emergency-events', { client_id: t.clientId }));
    expect((emergency.summary as Json).total).toBe(1);

    const bulk = conform(
      'POST /api/admin/bulk/execute',
      await call('admin', 'POST', '/api/admin/bulk/execute', TEST_ADMIN_TOKEN, {
        body: { operation: 'disable_agents', agent_ids: [t.agentId, randomUUID()], confirm: true },
      }),
    );
    expect(bulk).toMatchObject({ operation: 'disable_agents', succeeded: 1, failed: 1 });
    const unconfirmed = await call('admin', 'POST', '/api/admin/bulk/execute', TEST_ADMIN_TOKEN, {
      body: { operation: 'disable_agents', agent_ids: [t.agentId] },
    });
    expectError(unconfirmed, 400, 'VALIDATION_ERROR');
    const tooMany = await call('admin', 'POST', '/api/admin/bulk/execute', TEST_ADMIN_TOKEN, {
      body: { operation: 'enable_agents', agent_ids: Array.from({ length: 101 }, () => randomUUID()), confirm: true },
    });
    expectError(tooMany, 400, 'VALIDATION_ERROR');
  });

  it('§3.4 client agent routes and the termination announcement', async () => {
    const t = await pricedTenant();
    const second = await registerAgent(t.token, t.instanceType);
    const third = await registerAgent(t.token, t.instanceType);

    const list = conform('GET /api/client/{cid}/agents', await call('agents', 'GET', `/api/client/${t.clientId}/agents`, t.token));
    expect((list.agents as unknown[]).length).toBe(3);
    const toggled = conform(
      'POST /api/client/agents/{aid}/toggle-enabled',
      await call('agents', 'POST', `/api/client/agents/${second.agentId}/toggle-enabled`, t.token, { body: { enabled: false } }),
    );
    expect((toggled.config as Json).enabled).toBe(false);
    const config = conform(
      'POST /api/client/agents/{aid}/config',
      await call('agents', 'POST', `/api/client/agents/${t.agentId}/config`, t.token, { body: { min_savings_percent: 20 } }),
    );
    expect((config.config as Json).min_savings_percent).toBe(20);
    const settings = conform(
      'POST /api/client/agents/{aid}/settings',
      await call('agents', 'POST', `/api/client/agents/${t.agentId}/settings`, t.token, {
        body: { terminateWaitMinutes: 2, version: config.version },
      }),
    );
    expect((settings.config as Json).terminate_wait_seconds).toBe(120);
    const stale = await call('agents', 'POST', `/api/client/agents/${t.agentId}/config`, t.token, {
      body: { min_savings_percent: 25, version: config.version },
    });
    expectError(stale, 409, 'VERSION_CONFLICT');
    const both = await call('agents', 'POST', `/api/client/agents/${t.agentId}/config`, t.token, {
      body: { auto_switch_enabled: true, manual_replica_enabled: true },
    });
    expectError(both, 400, 'VALIDATION_ERROR');

    await seedCommand(t.clientId, third.agentId, third.instanceId);
    const deleted = conform(
      'DELETE /api/client/agents/{aid}',
      await call('agents', 'DELETE', `/api/client/agents/${third.agentId}`, t.token),
    );
    expect(deleted).toMatchObject({ agent_id: third.agentId, status: 'deleted', commands_cancelled: 1 });
    const history = conform(
      'GET /api/client/{cid}/agents/history',
      await call('agents', 'GET', `/api/client/${t.clientId}/agents/history`, t.token),
    );
    expect((history.agents as Json[])[0]?.id).toBe(third.agentId);
    expect((history.agents as unknown[]).length).toBe(3);

    // An instance that is not the PRIMARY leaving: the agent goes offline.
    const left = conform(
      'POST /api/agents/{aid}/termination',
      await call('agents', 'POST', `/api/agents/${second.agentId}/termination`, t.token, {
        body: { reason: 'scale-in', instance_id: randomInstanceId() },
      }),
    );
    expect(left).toMatchObject({ success: true, agent_id: second.agentId, status: 'offline' });
    // The PRIMARY leaving is an EC2 termination (§5): with no ready replica the agent is in `error`.
    const primaryLeft = conform(
      'POST /api/agents/{aid}/termination',
      await call('agents', 'POST', `/api/agents/${t.agentId}/termination`, t.token, { body: { instance_id: t.primary } }),
    );
    expect(primaryLeft).toMatchObject({ success: true, agent_id: t.agentId, status: 'error' });
  });

  it('§3.5 switch commands: 202 + Command (version + ETag); 409 COMMAND_IN_FLIGHT; 422 codes', async () => {
    const t = await pricedTenant();
    // The PRIMARY runs in pool b since the seeded switch; pool a is the target.
    const pool = `${t.instanceType}.us-east-1a`;
    const issued = conform(
      'POST /api/agents/{aid}/issue-switch-command',
      await call('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, t.token, {
        body: { target_mode: 'spot', target_pool_id: pool },
      }),
      202,
    );
    expect(issued).toMatchObject({ priority: 25, trigger_type: 'model', status: 'pending', target_pool_id: pool });
    const same = await call('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, t.token, {
      body: { target_mode: 'spot', target_pool_id: pool },
    });
    expectError(same, 409, 'COMMAND_IN_FLIGHT');
    const mismatch = await call('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, t.token, {
      body: { target_mode: 'spot', target_pool_id: 'm5.large.us-east-1b', priority: 50 },
    });
    expectError(mismatch, 422, 'POOL_MISMATCH');
    for (const priority of [9, 51]) {
      const bad = await call('commands', 'POST', `/api/agents/${t.agentId}/issue-switch-command`, t.token, {
        body: { target_mode: 'ondemand', priority },
      });
      expectError(bad, 400, 'VALIDATION_ERROR');
    }
    const forced = conform(
      'POST /api/client/instances/{iid}/force-switch',
      await call('commands', 'POST', `/api/client/instances/${t.primary}/force-switch`, t.token, { body: { target: 'ondemand' } }),
      202,
    );
    expect(forced).toMatchObject({ priority: 75, trigger_type: 'manual', target_mode: 'ondemand' });
    const zombie = await call('commands', 'POST', `/api/client/instances/${t.oldInstance}/force-switch`, t.token, {
      body: { target: 'ondemand' },
    });
    expectError(zombie, 422, 'NOT_PRIMARY');
  });

  it('§3.6 replicas: sync-status, replica-config, promote (422 REPLICA_NOT_READY), delete, client list', async () => {
    const t = await pricedTenant();
    const agent = { ...t, instanceId: t.primary, az: 'us-east-1b' };
    const syncing = await launchedReplica(agent, 'syncing', { pool: `${t.instanceType}.us-east-1a` });

    const cfg = conform('GET /api/agents/{aid}/replica-config', await call('replicas', 'GET', `/api/agents/${t.agentId}/replica-config`, t.token));
    expect(cfg).toMatchObject({ enabled: false, count: 1 });
    const clientList = conform('GET /api/client/{cid}/replicas', await call('replicas', 'GET', `/api/client/${t.clientId}/replicas`, t.token));
    const entry = (clientList.replicas as Json[])[0] as Json;
    expect(missing(entry.replica, REPLICA)).toEqual([]);
    expect(missing(entry.primary, ['instance_id', 'az', 'mode'])).toEqual([]);

    const rpath = `/api/agents/${t.agentId}/replicas/${syncing.replicaId}`;
    const notReady = await call('replicas', 'POST', `${rpath}/promote`, t.token, { body: {} });
    expectError(notReady, 422, 'REPLICA_NOT_READY');
    const synced = conform(
      'POST /api/agents/{aid}/replicas/{rid}/sync-status',
      await call('replicas', 'POST', `${rpath}/sync-status`, t.token, {
        body: { sync_status: 'synced', sync_latency_ms: 12, state_transfer_progress: 100 },
      }),
    );
    expect(synced).toMatchObject({ success: true, status: 'ready', sync_status: 'synced' });
    const promoted = conform(
      'POST /api/agents/{aid}/replicas/{rid}/promote',
      await call('replicas', 'POST', `${rpath}/promote`, t.token, { body: {} }),
    );
    expect(promoted).toMatchObject({ success: true, new_instance_id: syncing.instanceId, old_instance_id: t.primary, demoted: false });

    const other = await launchedReplica({ ...agent, instanceId: syncing.instanceId }, 'syncing', {
      pool: `${t.instanceType}.us-east-1b`,
    });
    const removed = conform(
      'DELETE /api/agents/{aid}/replicas/{rid}',
      await call('replicas', 'DELETE', `/api/agents/${t.agentId}/replicas/${other.replicaId}`, t.token),
    );
    expect(removed).toMatchObject({ success: true, replica_id: other.replicaId, status: 'terminated' });
  });

  it('§3.7 emergency-status', async () => {
    const t = await pricedTenant();
    await call('emergency', 'POST', `/api/agents/${t.agentId}/rebalance-recommendation`, t.token, { body: { instance_id: t.primary } });
    const status = conform(
      'GET /api/agents/{aid}/emergency-status',
      await call('emergency', 'GET', `/api/agents/${t.agentId}/emergency-status`, t.token),
    );
    expect(status).toMatchObject({ notice_status: 'rebalance', decision_engine_active: true, rebalance_only_mode: false });
    expect(missing(status.last_emergency_event, EMERGENCY_EVENT)).toEqual([]);
  });

  it('§3.8 instances & pricing: keys, query ranges and defaults', async () => {
    const t = await pricedTenant();
    await setInstancePrices(t.primary, 0.03, 0.1);
    const ipath = `/api/client/instances/${t.primary}`;
    const get = (path: string, query?: Record<string, string | number>) =>
      call('instances', 'GET', path, t.token, query ? { query } : {});

    const list = conform('GET /api/client/{cid}/instances', await get(`/api/client/${t.clientId}/instances`));
    expect((list.instances as Json[]).map((i) => i.id)).toEqual([t.primary]);
    const all = conform('GET /api/client/{cid}/instances', await get(`/api/client/${t.clientId}/instances`, { status: 'all' }));
    expect((all.instances as unknown[]).length).toBe(2);
    const pricing = conform('GET /api/client/instances/{iid}/pricing', await get(`${ipath}/pricing`));
    expect(pricing.current_mode).toBe('spot');
    expect((pricing.pools as unknown[]).length).toBe(3);
    conform('GET /api/client/instances/{iid}/metrics', await get(`${ipath}/metrics`));
    conform('GET /api/client/instances/{iid}/price-history', await get(`${ipath}/price-history`));
    conform('GET /api/client/instances/{iid}/price-history', await get(`${ipath}/price-history`, { days: 90, interval: 'day' }));
    for (const days of [0, 91]) expectError(await get(`${ipath}/price-history`, { days }), 400, 'VALIDATION_ERROR');
    const hist = conform('GET /api/client/pricing-history', await get('/api/client/pricing-history', { agent_id: t.agentId }));
    expect(hist).toMatchObject({ agent_id: t.agentId, instance_type: t.instanceType, region: 'us-east-1' });
    const options = conform('GET /api/client/instances/{iid}/available-options', await get(`${ipath}/available-options`));
    expect(options).toMatchObject({ current_type: t.instanceType, current_az: 'us-east-1b' });
    const logs = conform('GET /api/client/instances/{iid}/logs', await get(`${ipath}/logs`));
    expect((logs.events as unknown[]).length).toBeGreaterThanOrEqual(1);
    const vol = conform('GET /api/client/instances/{iid}/pool-volatility', await get(`${ipath}/pool-volatility`));
    const alternatives = vol.alternative_pools as Json[];
    expect(alternatives.filter((p) => p.recommendation === 'best')).toHaveLength(alternatives.length > 0 ? 1 : 0);
    conform('GET /api/client/instances/{iid}/pool-volatility', await get(`${ipath}/pool-volatility`, { window_hours: 168 }));
    for (const window_hours of [0, 169]) expectError(await get(`${ipath}/pool-volatility`, { window_hours }), 400, 'VALIDATION_ERROR');
    const sim = conform(
      'POST /api/client/instances/{iid}/simulate-switch',
      await call('instances', 'POST', `${ipath}/simulate-switch`, t.token, { body: { target_type: 'ondemand' } }),
    );
    expect(sim.daily_savings).toBeCloseTo((sim.hourly_savings as number) * 24, 9);
    expect(sim.monthly_savings).toBeCloseTo((sim.hourly_savings as number) * 730, 9);
  });

  it('§3.9 decisions and the model registry (201 uploads, 422 UPLOAD_INCOMPLETE)', async () => {
    const t = await pricedTenant();
    const decision = conform('POST /api/agents/{aid}/decide', await call('decisions', 'POST', `/api/agents/${t.agentId}/decide`, t.token, { body: {} }));
    expect(typeof decision.decision_id).toBe('string');
    const rec = conform(
      'GET /api/agents/{aid}/switch-recommendation',
      await call('decisions', 'GET', `/api/agents/${t.agentId}/switch-recommendation`, t.token),
    );
    expect((rec.alternative_pools as unknown[]).length).toBeLessThanOrEqual(5);
    if (rec.current_pool !== null) expect(missing(rec.current_pool, POOL_PRICE)).toEqual([]);
    const stats = conform('GET /api/agents/{aid}/statistics', await call('decisions', 'GET', `/api/agents/${t.agentId}/statistics`, t.token));
    expect(stats.total_decisions).toBe(1);
    expect(stats.switches_executed).toBe(1);
    for (const days of [0, 366]) {
      expectError(await call('decisions', 'GET', `/api/agents/${t.agentId}/statistics`, t.token, { query: { days } }), 400, 'VALIDATION_ERROR');
    }
    const byAgent = conform(
      'GET /api/client/{cid}/agents/decisions',
      await call('decisions', 'GET', `/api/client/${t.clientId}/agents/decisions`, t.token),
    );
    const history = ((byAgent.agents as Json[])[0] as Json).decision_history as Json[];
    expect(history).toHaveLength(1);
    expect(missing(history[0], ['decision_type', 'risk_score', 'expected_savings', 'confidence', 'time'])).toEqual([]);

    const model = conform(
      'POST /api/admin/ml-models/upload',
      await call('decisions', 'POST', '/api/admin/ml-models/upload', TEST_ADMIN_TOKEN, {
        body: { name: 'conformance-model', parameters: {}, confidence_threshold: 0 },
      }),
      201,
    );
    expect(model).toMatchObject({ kind: 'model', status: 'pending' });
    const engine = conform(
      'POST /api/admin/decision-engine/upload',
      await call('decisions', 'POST', '/api/admin/decision-engine/upload', TEST_ADMIN_TOKEN, {
        body: { name: 'conformance-engine', parameters: {}, confidence_threshold: 0 },
      }),
      201,
    );
    expect(engine).toMatchObject({ kind: 'engine', status: 'pending' });
    const sessions = conform(
      'GET /api/admin/ml-models/sessions',
      await call('decisions', 'GET', '/api/admin/ml-models/sessions', TEST_ADMIN_TOKEN, { query: { kind: 'engine' } }),
    );
    expect((sessions.uploads as Json[]).some((u) => u.upload_id === engine.upload_id)).toBe(true);
    const blind = await call<Json>('decisions', 'POST', '/api/admin/ml-models/upload', TEST_ADMIN_TOKEN, {
      body: { name: 'conformance-blind', parameters: { risk_weights: { interruptions: 0, volatility: 0, price_ratio: 0 } } },
    });
    expect(blind.status, blind.text).toBe(201);
    const refused = await call('decisions', 'POST', '/api/admin/ml-models/activate', TEST_ADMIN_TOKEN, {
      body: { upload_id: blind.json.upload_id },
    });
    expectError(refused, 422, 'UPLOAD_INCOMPLETE');
  });

  it('§3.11 analytics: keys, months/days/window_hours ranges and defaults, CSV columns', async () => {
    const t = await pricedTenant();
    const base = `/api/client/${t.clientId}`;
    const get = (path: string, query?: Record<string, string | number>) =>
      call('analytics', 'GET', path, t.token, query ? { query } : {});

    const savings = conform('GET /api/client/{cid}/savings', await get(`${base}/savings`));
    expect(savings.savings_by_month as unknown[]).toHaveLength(12);
    expect((conform('GET /api/client/{cid}/savings', await get(`${base}/savings`, { months: 24 })).savings_by_month as unknown[]).length).toBe(24);
    for (const months of [0, 25]) expectError(await get(`${base}/savings`, { months }), 400, 'VALIDATION_ERROR');

    const history = conform('GET /api/client/{cid}/switch-history', await get(`${base}/switch-history`));
    expect(history.total).toBe(1);
    expect(conform('GET /api/client/{cid}/switches', await get(`${base}/switches`)).switches).toEqual(history.switches);

    const charts = conform('GET /api/client/{cid}/stats/charts', await get(`${base}/stats/charts`));
    expect(charts.savings_trend as unknown[]).toHaveLength(6);
    expect(charts.switch_frequency as unknown[]).toHaveLength(30);
    expectError(await get(`${base}/stats/charts`, { months: 25 }), 400, 'VALIDATION_ERROR');

    const downtime = conform('GET /api/client/{cid}/analytics/downtime', await get(`${base}/analytics/downtime`));
    expect(downtime).toMatchObject({ total_switches: 1, max_downtime_seconds: 6 });
    const byTrigger = downtime.downtime_by_trigger as Record<string, Json>;
    for (const v of Object.values(byTrigger)) expect(missing(v, ['total_seconds', 'count'])).toEqual([]);
    expect(Object.values(byTrigger).length).toBe(1);
    conform('GET /api/client/{cid}/analytics/downtime', await get(`${base}/analytics/downtime`, { window_hours: 2160 }));
    for (const window_hours of [0, 2161]) expectError(await get(`${base}/analytics/downtime`, { window_hours }), 400, 'VALIDATION_ERROR');

    const header = (res: ApiResponse) => res.text.split(/\r?\n/)[0]?.split(',');
    const savingsCsv = await get(`${base}/export/savings`);
    conform('GET /api/client/{cid}/export/savings', savingsCsv);
    expect(header(savingsCsv)).toEqual(['date', 'savings_usd', 'ondemand_cost_usd', 'actual_cost_usd', 'spot_hours', 'ondemand_hours']);
    const switchesCsv = await get(`${base}/export/switch-history`, { agent_id: t.agentId });
    conform('GET /api/client/{cid}/export/switch-history', switchesCsv);
    expect(header(switchesCsv)).toEqual(expect.arrayContaining(SWITCH.filter((k) => k !== 'timing')));
    const global = await call('analytics', 'GET', '/api/admin/export/global-stats', TEST_ADMIN_TOKEN);
    conform('GET /api/admin/export/global-stats', global);
    expect(header(global)).toEqual([
      'client_id', 'name', 'status', 'agents_total', 'agents_online', 'instances_active', 'total_savings_usd', 'switches_30d',
    ]);
  });

  it('§3.12 notifications and pricing alerts: keys, 201 create / 200 update, 422 ALERT_LIMIT_REACHED', async () => {
    const { client, token } = await createClientInProcess();
    const nid = await seedNotification(client.id, { severity: 'warning' });
    await seedNotification(client.id, { severity: 'info' });
    const list = conform('GET /api/notifications', await call('notifications', 'GET', '/api/notifications', token));
    expect(list.unread_count).toBe(2);
    const read = conform('POST /api/notifications/{nid}/mark-read', await call('notifications', 'POST', `/api/notifications/${nid}/mark-read`, token));
    expect(read).toEqual({ id: nid, is_read: true });
    const all = conform('POST /api/notifications/mark-all-read', await call('notifications', 'POST', '/api/notifications/mark-all-read', token, { body: {} }));
    expect(all.updated).toBe(1);
    const asAdmin = conform(
      'GET /api/notifications',
      await call('notifications', 'GET', '/api/notifications', TEST_ADMIN_TOKEN, { query: { client_id: client.id } }),
    );
    expect(asAdmin.unread_count).toBe(0);

    const alerts = `/api/client/${client.id}/pricing-alerts`;
    const created = conform(
      'POST /api/client/{cid}/pricing-alerts',
      await call('notifications', 'POST', alerts, token, {
        body: { alert_type: 'spot_price_above', threshold: 0.05, notification_channels: ['dashboard', 'webhook'], webhook_url: 'https://example.com/hook' },
      }),
      201,
    );
    expect(created.version).toBe(1);
    const updated = conform(
      'POST /api/client/{cid}/pricing-alerts',
      await call('notifications', 'POST', alerts, token, {
        body: { alert_id: created.alert_id, version: 1, alert_type: 'spot_price_above', threshold: 0.06 },
      }),
      200,
    );
    expect(updated).toMatchObject({ alert_id: created.alert_id, threshold: 0.06, version: 2 });
    const http = await call('notifications', 'POST', alerts, token, {
      body: { alert_type: 'spot_price_above', threshold: 1, webhook_url: 'http://example.com/hook' },
    });
    expectError(http, 400, 'VALIDATION_ERROR');
    for (let i = 1; i < 50; i++) {
      const res = await call('notifications', 'POST', alerts, token, { body: { alert_type: 'pool_risk_above', threshold: i / 100 } });
      expect(res.status, res.text).toBe(201);
    }
    const over = await call('notifications', 'POST', alerts, token, { body: { alert_type: 'pool_risk_above', threshold: 0.9 } });
    expectError(over, 422, 'ALERT_LIMIT_REACHED');
    const listed = conform('GET /api/client/{cid}/pricing-alerts', await call('notifications', 'GET', alerts, token));
    expect(listed.alerts as unknown[]).toHaveLength(50);
  });

  it('§3.13 events: json keys; SSE starts with retry: 5000 and ends with a heartbeat', async () => {
    const t = await pricedTenant();
    // The feed hands out events once they have settled (the seeded switch published some).
    await new Promise((r) => setTimeout(r, SETTLE_MS + 200));
    const json = conform(
      'GET /api/events/stream',
      await call('events', 'GET', '/api/events/stream', t.token, { query: { format: 'json' } }),
    );
    expect((json.events as unknown[]).length).toBeGreaterThanOrEqual(1);
    const sse = await call('events', 'GET', '/api/events/stream', t.token);
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(sse.text.startsWith('retry: 5000')).toBe(true);
    expect(sse.text.trimEnd()).toMatch(/event: heartbeat(\ndata: .*)?$/);
  });

  it('§1.2 lists: `limit` is 1–200 (default 50), a bad nextToken is 400 INVALID_NEXT_TOKEN, nextToken is present', async () => {
    const t = await pricedTenant();
    const concrete = (route: string) =>
      route
        .replace('{cid}', t.clientId)
        .replace('{iid}', t.primary)
        .replace(/^GET /, '');
    for (const route of PAGINATED) {
      // The documented default: limit 50 when absent.
      const def = ROUTE_TABLE.find((r) => `${r.method} ${r.path}` === route);
      expect((def?.query?.parse({}) as { limit?: number } | undefined)?.limit, `${route} default limit`).toBe(50);
      const path = concrete(route);
      const group = ROUTE_TABLE.find((r) => `${r.method} ${r.path}` === route)?.group as Group;
      const token = route.startsWith('GET /api/admin') ? TEST_ADMIN_TOKEN : t.token;
      const page = await call(group, 'GET', path, token, { query: { limit: 1 } });
      conform(route, page);
      const items = Object.values(page.json as Json).find(Array.isArray) as unknown[];
      expect(items.length, `${route} honours limit`).toBeLessThanOrEqual(1);
      expect(await call(group, 'GET', path, token, { query: { limit: 200 } }), route).toMatchObject({ status: 200 });
      for (const limit of [0, 201]) {
        expectError(await call(group, 'GET', path, token, { query: { limit } }), 400, 'VALIDATION_ERROR');
      }
      expectError(await call(group, 'GET', path, token, { query: { nextToken: 'not-a-token' } }), 400, 'INVALID_NEXT_TOKEN');
    }
    // Paging through the client's two instances one at a time visits both, then ends with nextToken null.
    const seen: string[] = [];
    let next: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: ApiResponse<{ instances: Json[]; nextToken: string | null }> = await call<{ instances: Json[]; nextToken: string | null }>('instances', 'GET', `/api/client/${t.clientId}/instances`, t.token, {
        query: { status: 'all', limit: 1, ...(next ? { nextToken: next } : {}) },
      });
      seen.push(...page.json.instances.map((x) => x.id as string));
      next = page.json.nextToken;
      if (next === null) break;
    }
    expect(seen.sort()).toEqual([t.primary, t.oldInstance].sort());
    expect(next).toBeNull();
  });

  it('every route of the key table was driven by the tests above', () => {
    expect(Object.keys(KEYS).filter((r) => !driven.has(r))).toEqual([]);
  });
});

import { describe, expect, it } from 'vitest';
import { agentsRoutes } from '../../functions/agents/routes.js';
import { emergencyRoutes } from '../../functions/emergency/routes.js';
import { notificationsRoutes } from '../../functions/notifications/routes.js';
import { reportingRoutes } from '../../functions/reporting/routes.js';
import { ROUTE_TABLE, ROUTES_BY_GROUP } from '../../functions/route-table.js';
import {
  type AuthClass,
  GROUPS,
  type GroupName,
  type RouteDef,
  routeKey,
} from '../../functions/shared/http/route.js';

/** API.md §3, transcribed: every route key of every group (§2 counts follow from it). */
const CATALOG: Record<GroupName, string[]> = {
  health: ['GET /', 'GET /health'],
  clients: [
    'POST /api/admin/clients/create',
    'DELETE /api/admin/clients/{cid}',
    'POST /api/admin/clients/{cid}/regenerate-token',
    'GET /api/admin/clients/{cid}/token',
    'GET /api/client/validate',
    'GET /api/client/{cid}',
  ],
  admin: [
    'GET /api/admin/stats',
    'GET /api/admin/clients',
    'GET /api/admin/clients/growth',
    'GET /api/admin/activity',
    'GET /api/admin/system-health',
    'GET /api/admin/instances',
    'GET /api/admin/agents',
    'GET /api/admin/search',
    'GET /api/admin/pools/statistics',
    'GET /api/admin/agents/health-summary',
    'POST /api/admin/bulk/execute',
    'GET /api/admin/metrics/operational',
    'GET /api/admin/consolidation-jobs',
    'GET /api/admin/emergency-events',
  ],
  agents: [
    'POST /api/agents/register',
    'POST /api/agents/{aid}/heartbeat',
    'GET /api/agents/{aid}',
    'GET /api/agents/{aid}/config',
    'POST /api/agents/{aid}/termination',
    'GET /api/client/{cid}/agents',
    'GET /api/client/{cid}/agents/history',
    'POST /api/client/agents/{aid}/toggle-enabled',
    'POST /api/client/agents/{aid}/config',
    'POST /api/client/agents/{aid}/settings',
    'DELETE /api/client/agents/{aid}',
  ],
  commands: [
    'GET /api/agents/{aid}/pending-commands',
    'POST /api/agents/{aid}/commands/{cmd}/executed',
    'POST /api/agents/{aid}/issue-switch-command',
    'POST /api/client/instances/{iid}/force-switch',
  ],
  replicas: [
    'GET /api/agents/{aid}/replicas',
    'POST /api/agents/{aid}/replicas',
    'PUT /api/agents/{aid}/replicas/{rid}',
    'DELETE /api/agents/{aid}/replicas/{rid}',
    'POST /api/agents/{aid}/replicas/{rid}/promote',
    'POST /api/agents/{aid}/replicas/{rid}/status',
    'POST /api/agents/{aid}/replicas/{rid}/sync-status',
    'GET /api/agents/{aid}/replica-config',
    'GET /api/client/{cid}/replicas',
  ],
  emergency: [
    'POST /api/agents/{aid}/create-emergency-replica',
    'POST /api/agents/{aid}/termination-imminent',
    'POST /api/agents/{aid}/termination-notice',
    'POST /api/agents/{aid}/rebalance-recommendation',
    'POST /api/agents/{aid}/rebalance-notice',
    'GET /api/agents/{aid}/emergency-status',
    'GET /api/agents/{aid}/instances-to-terminate',
  ],
  instances: [
    'GET /api/client/{cid}/instances',
    'GET /api/client/instances/{iid}/pricing',
    'GET /api/client/instances/{iid}/metrics',
    'GET /api/client/instances/{iid}/price-history',
    'GET /api/client/pricing-history',
    'GET /api/client/instances/{iid}/available-options',
    'GET /api/client/instances/{iid}/logs',
    'GET /api/client/instances/{iid}/pool-volatility',
    'POST /api/client/instances/{iid}/simulate-switch',
  ],
  decisions: [
    'POST /api/agents/{aid}/decide',
    'GET /api/agents/{aid}/switch-recommendation',
    'GET /api/agents/{aid}/statistics',
    'GET /api/client/{cid}/agents/decisions',
    'POST /api/admin/ml-models/upload',
    'POST /api/admin/decision-engine/upload',
    'POST /api/admin/ml-models/activate',
    'POST /api/admin/ml-models/fallback',
    'GET /api/admin/ml-models/sessions',
  ],
  reporting: [
    'POST /api/agents/{aid}/pricing-report',
    'POST /api/agents/{aid}/switch-report',
    'POST /api/agents/{aid}/termination-report',
    'POST /api/agents/{aid}/cleanup-report',
  ],
  analytics: [
    'GET /api/client/{cid}/savings',
    'GET /api/client/{cid}/switch-history',
    'GET /api/client/{cid}/switches',
    'GET /api/client/{cid}/stats/charts',
    'GET /api/client/{cid}/analytics/downtime',
    'GET /api/client/{cid}/export/savings',
    'GET /api/client/{cid}/export/switch-history',
    'GET /api/admin/export/global-stats',
  ],
  notifications: [
    'GET /api/notifications',
    'POST /api/notifications/{nid}/mark-read',
    'POST /api/notifications/mark-all-read',
    'GET /api/client/{cid}/pricing-alerts',
    'POST /api/client/{cid}/pricing-alerts',
  ],
  events: ['GET /api/events/stream'],
  // Console additions (README "Console additions to the API"), not in API.md.
  insights: [
    'GET /api/client/agents/{aid}/commands',
    'GET /api/client/agents/{aid}/decision-log',
    'GET /api/client/{cid}/insights/emergencies',
    'GET /api/client/{cid}/savings/daily',
    'GET /api/client/{cid}/insights/savings-by-cause',
    'GET /api/client/{cid}/insights/pools',
    'GET /api/client/{cid}/insights/failover',
  ],
  console: ['GET /console', 'GET /console/assets/{file}'],
};

const GROUP_COUNTS: Record<GroupName, number> = {
  health: 2,
  clients: 6,
  admin: 14,
  agents: 11,
  commands: 4,
  replicas: 9,
  emergency: 7,
  instances: 9,
  decisions: 9,
  reporting: 4,
  analytics: 8,
  notifications: 5,
  events: 1,
  insights: 7,
  console: 2,
};

/** API.md: the routes marked AGENT WIRE CONTRACT — do not rename (the agent's 18 routes). */
const WIRE_ROUTES = [
  'POST /api/agents/register',
  'POST /api/agents/{aid}/heartbeat',
  'GET /api/agents/{aid}',
  'GET /api/agents/{aid}/config',
  'GET /api/agents/{aid}/pending-commands',
  'POST /api/agents/{aid}/commands/{cmd}/executed',
  'GET /api/agents/{aid}/replicas',
  'POST /api/agents/{aid}/replicas',
  'PUT /api/agents/{aid}/replicas/{rid}',
  'POST /api/agents/{aid}/replicas/{rid}/status',
  'POST /api/agents/{aid}/create-emergency-replica',
  'POST /api/agents/{aid}/termination-imminent',
  'POST /api/agents/{aid}/rebalance-recommendation',
  'GET /api/agents/{aid}/instances-to-terminate',
  'POST /api/agents/{aid}/pricing-report',
  'POST /api/agents/{aid}/switch-report',
  'POST /api/agents/{aid}/termination-report',
  'POST /api/agents/{aid}/cleanup-report',
];

/** API.md §3.14: alias → canonical. */
const ALIASES: Record<string, string> = {
  'POST /api/agents/{aid}/termination-notice': 'POST /api/agents/{aid}/termination-imminent',
  'POST /api/agents/{aid}/rebalance-notice': 'POST /api/agents/{aid}/rebalance-recommendation',
  'GET /api/client/{cid}/switches': 'GET /api/client/{cid}/switch-history',
  'POST /api/client/agents/{aid}/settings': 'POST /api/client/agents/{aid}/config',
};

/** API.md §1.1: the auth class follows from the path. */
function expectedAuth(path: string): AuthClass {
  if (path === '/' || path === '/health' || path === '/console' || path.startsWith('/console/')) return 'none';
  if (path.startsWith('/api/admin/')) return 'admin';
  if (path.startsWith('/api/agents/')) return 'agent-client';
  if (
    path.startsWith('/api/client/') ||
    path.startsWith('/api/notifications') ||
    path === '/api/events/stream'
  ) {
    return 'client';
  }
  throw new Error(`no auth class for ${path}`);
}

const byKey = new Map(ROUTE_TABLE.map((r) => [routeKey(r), r]));
const byId = new Map(ROUTE_TABLE.map((r) => [r.operationId, r]));
const pathParams = (path: string): string[] => [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();

describe('route table (API.md §2, §3)', () => {
  it("has exactly API.md's 89 routes (85 operations + 4 aliases) plus the console's 9", () => {
    expect(ROUTE_TABLE).toHaveLength(89 + 9);
    expect(ROUTE_TABLE.filter((r) => r.aliasOf)).toHaveLength(4);
  });

  it('has the per-group counts of §2, and every group has a Lambda entry', () => {
    expect(Object.keys(ROUTES_BY_GROUP).sort()).toEqual([...GROUPS].sort());
    const counts = Object.fromEntries(
      GROUPS.map((g) => [g, ROUTE_TABLE.filter((r) => r.group === g).length]),
    );
    expect(counts).toEqual(GROUP_COUNTS);
  });

  it('declares exactly the catalog, each route in its group', () => {
    for (const group of GROUPS) {
      const declared = ROUTE_TABLE.filter((r) => r.group === group)
        .map(routeKey)
        .sort();
      expect(declared, group).toEqual([...CATALOG[group]].sort());
    }
  });

  it('keys each group object by operationId and puts it in the right group', () => {
    for (const [group, routes] of Object.entries(ROUTES_BY_GROUP)) {
      for (const [key, route] of Object.entries(routes)) {
        expect(route.operationId).toBe(key);
        expect(route.group).toBe(group);
      }
    }
  });

  it('has unique, camelCase operationIds and unique (method, path) pairs', () => {
    const ids = ROUTE_TABLE.map((r) => r.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    expect(byKey.size).toBe(ROUTE_TABLE.length);
  });

  it('points every alias at an existing canonical route with the same method, group and schemas', () => {
    const aliases = ROUTE_TABLE.filter((r) => r.aliasOf);
    expect(
      Object.fromEntries(aliases.map((a) => [routeKey(a), routeKey(byId.get(a.aliasOf ?? '') as RouteDef)])),
    ).toEqual(ALIASES);
    for (const alias of aliases) {
      const canonical = byId.get(alias.aliasOf ?? '');
      expect(canonical, alias.operationId).toBeDefined();
      if (!canonical) continue;
      expect(canonical.aliasOf).toBeUndefined();
      expect(canonical.method).toBe(alias.method);
      expect(canonical.group).toBe(alias.group);
      expect(canonical.auth).toBe(alias.auth);
      expect(alias.params).toBe(canonical.params);
      expect(alias.query).toBe(canonical.query);
      expect(alias.body).toBe(canonical.body);
      expect(alias.response).toBe(canonical.response);
    }
  });

  it('has a params schema field for every {param} in a path, and nothing else', () => {
    for (const route of ROUTE_TABLE) {
      const declared = Object.keys(route.params?.shape ?? {}).sort();
      expect(declared, route.operationId).toEqual(pathParams(route.path));
    }
  });

  it('marks exactly the AGENT WIRE CONTRACT routes as wire, at their exact paths', () => {
    for (const key of WIRE_ROUTES) {
      const route = byKey.get(key);
      expect(route, key).toBeDefined();
      expect(route?.wire, key).toBe(true);
    }
    const wire = ROUTE_TABLE.filter((r) => r.wire)
      .map(routeKey)
      .sort();
    expect(wire).toEqual([...WIRE_ROUTES].sort());
  });

  it('sets auth per §1.1', () => {
    for (const route of ROUTE_TABLE) expect(route.auth, route.operationId).toBe(expectedAuth(route.path));
  });

  it('takes a body token on register only', () => {
    expect(ROUTE_TABLE.filter((r) => r.bodyToken).map((r) => r.operationId)).toEqual(['registerAgent']);
  });

  it('declares 201 for creates and 202 for queued commands', () => {
    const withStatus = (s: number) =>
      ROUTE_TABLE.filter((r) => (r.status ?? 200) === s)
        .map((r) => r.operationId)
        .sort();
    expect(withStatus(202)).toEqual(['forceSwitch', 'issueSwitchCommand']);
    expect(withStatus(201)).toEqual(
      [
        'createClient',
        'createEmergencyReplica',
        'createReplica',
        'registerAgent',
        'uploadDecisionEngine',
        'uploadMlModel',
        'upsertPricingAlert',
      ].sort(),
    );
  });

  it('marks CSV exports and the SSE stream', () => {
    const kind = (k: string) =>
      ROUTE_TABLE.filter((r) => r.responseKind === k)
        .map((r) => r.operationId)
        .sort();
    expect(kind('csv')).toEqual(['exportGlobalStatsCsv', 'exportSavingsCsv', 'exportSwitchHistoryCsv']);
    expect(kind('sse')).toEqual(['streamEvents']);
  });

  it('has a summary everywhere and no body on GET routes', () => {
    for (const route of ROUTE_TABLE) {
      expect(route.summary.length, route.operationId).toBeGreaterThan(0);
      if (route.method === 'GET') expect(route.body, route.operationId).toBeUndefined();
    }
  });
});

/** A route's body schema (these routes all declare one). */
function bodyOf<D extends RouteDef>(route: D): NonNullable<D['body']> {
  if (!route.body) throw new Error(`${route.operationId} has no body schema`);
  return route.body as NonNullable<D['body']>;
}

describe('request schemas', () => {
  const iso = '2025-01-15T12:00:00Z';

  it('folds the agent config aliases into canonical keys and ignores unknown fields', () => {
    const body = bodyOf(agentsRoutes.updateAgentConfig);
    expect(
      body.parse({
        autoSwitchEnabled: false,
        manualReplicaEnabled: true,
        terminateWaitMinutes: 2,
        unknown: 1,
      }),
    ).toEqual({ auto_switch_enabled: false, manual_replica_enabled: true, terminate_wait_seconds: 120 });
    expect(body.parse({ replica_enabled: true, auto_switch_enabled: false })).toEqual({
      manual_replica_enabled: true,
      auto_switch_enabled: false,
    });
    // The canonical key wins over its alias.
    expect(body.parse({ auto_terminate_enabled: true, autoTerminateEnabled: false })).toEqual({
      auto_terminate_enabled: true,
    });
  });

  it('rejects both exclusive modes on, naming body.manual_replica_enabled', () => {
    const result = bodyOf(agentsRoutes.updateAgentConfig).safeParse({
      autoSwitchEnabled: true,
      manual_replica_enabled: true,
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(['manual_replica_enabled']);
  });

  it('enforces the §4.5 ranges', () => {
    const body = bodyOf(agentsRoutes.updateAgentConfig);
    expect(body.safeParse({ terminate_wait_seconds: 3601 }).success).toBe(false);
    expect(body.safeParse({ risk_threshold: 1.5 }).success).toBe(false);
    expect(body.safeParse({ terminateWaitMinutes: 61 }).success).toBe(false);
  });

  it('accepts the termination-imminent and rebalance aliases', () => {
    expect(bodyOf(emergencyRoutes.terminationImminent).parse({ time: iso })).toEqual({
      termination_time: iso,
    });
    expect(
      bodyOf(emergencyRoutes.terminationImminent).parse({ notice_time: iso, termination_time: null }),
    ).toEqual({
      termination_time: iso,
    });
    expect(
      bodyOf(emergencyRoutes.rebalanceRecommendation).parse({ instance_id: 'i-0000000000000000a', notice_time: iso }),
    ).toEqual({
      instance_id: 'i-0000000000000000a',
      detected_at: iso,
    });
  });

  const instance = {
    instance_id: 'i-0123456789abcdef0',
    instance_type: 't3.medium',
    region: 'us-east-1',
    az: 'us-east-1a',
    ami_id: 'ami-1',
    mode: 'unknown',
    pool_id: null,
  };

  it('normalises switch-report alternative keys; the agent key wins', () => {
    const parsed = bodyOf(reportingRoutes.switchReport).parse({
      old_instance: instance,
      new_instance: { ...instance, instance_id: 'i-0000000000000000a', mode: 'spot', pool_id: 't3.medium.us-east-1b' },
      pricing: { on_demand: 0.04, new_spot: 0.01 },
      timing: {
        initiated_at: iso,
        switch_initiated_at: '2025-01-15T11:59:00Z',
        instance_launched_at: iso,
        instance_ready_at: iso,
        traffic_switched_at: iso,
        old_terminated_at: iso,
      },
      trigger: 'model',
    });
    expect(parsed.prices).toEqual({ on_demand: 0.04, old_spot: null, new_spot: 0.01 });
    expect(parsed.timing).toEqual({
      switch_initiated_at: '2025-01-15T11:59:00Z',
      new_instance_launched_at: iso,
      new_instance_ready_at: iso,
      traffic_switched_at: iso,
      old_instance_terminated_at: iso,
    });
    expect(parsed.old_instance.mode).toBe('ondemand');
    expect(parsed).not.toHaveProperty('pricing');
  });

  it('reports a switch-report field missing under both spellings at the agent key', () => {
    const result = bodyOf(reportingRoutes.switchReport).safeParse({
      old_instance: instance,
      new_instance: instance,
      timing: { switch_initiated_at: iso, new_instance_launched_at: iso, new_instance_ready_at: iso },
      trigger: 'manual',
    });
    expect(result.error?.issues.map((i) => i.path.join('.')).sort()).toEqual([
      'prices',
      'timing.traffic_switched_at',
    ]);
  });

  it('accepts a pricing report with null pool, prices and cheapest pool', () => {
    const result = bodyOf(reportingRoutes.pricingReport).safeParse({
      instance: { ...instance, mode: 'ondemand' },
      pricing: {
        on_demand_price: null,
        current_spot_price: null,
        cheapest_pool: null,
        spot_pools: [],
        collected_at: '2025-01-15T12:00:00.123456+00:00',
      },
    });
    expect(result.success).toBe(true);
  });

  it('requires an https webhook_url on pricing alerts', () => {
    const body = bodyOf(notificationsRoutes.upsertPricingAlert);
    const alert = { alert_type: 'spot_price_above', threshold: 0.05 };
    expect(body.safeParse({ ...alert, webhook_url: 'http://example.com/hook' }).success).toBe(false);
    expect(body.safeParse({ ...alert, webhook_url: 'https://example.com/hook' }).success).toBe(true);
    expect(body.safeParse({ alert_type: 'spot_price_above' }).success).toBe(false);
  });
});

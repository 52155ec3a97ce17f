import * as z from 'zod';
import {
  agentSchema,
  agentStatus,
  count,
  emergencyLogFilters,
  emergencyLogPage,
  instanceSchema,
  optionalNextToken,
  severity,
} from '../shared/http/resource-schemas.js';
import { defineRoute } from '../shared/http/route.js';
import { mode, nnum, nstr, obj, pagination, queryInt, uuid } from '../shared/http/schemas.js';

/** `types=clients,agents`: a comma-separated subset of the searchable kinds. */
const searchTypes = z
  .string()
  .max(100)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  )
  .pipe(z.array(z.enum(['clients', 'instances', 'agents'])).min(1));

const clientSummary = obj({
  id: z.string(),
  name: z.string(),
  email: nstr,
  status: z.string(),
  agents_online: count,
  agents_total: count,
  instances_active: count,
  total_savings: z.number(),
  last_sync_at: nstr,
});

/** API.md §3.3: 14 admin-token routes; the list routes accept `limit` and `nextToken`. */
export const adminRoutes = {
  getAdminStats: defineRoute({
    operationId: 'getAdminStats',
    method: 'GET',
    path: '/api/admin/stats',
    group: 'admin',
    auth: 'admin',
    summary: 'Global totals',
    response: obj({
      total_clients: count,
      agents_online: count,
      agents_total: count,
      instances_active: count,
      pools_covered: count,
      total_savings: z.number(),
      switches: obj({ total: count, manual: count, model: count, emergency: count }),
      decision_engine: obj({ loaded: z.boolean(), active_upload_id: nstr }),
    }),
  }),
  listAllClients: defineRoute({
    operationId: 'listAllClients',
    method: 'GET',
    path: '/api/admin/clients',
    group: 'admin',
    auth: 'admin',
    summary: 'All clients',
    query: z.object({ status: z.enum(['active', 'inactive', 'deleting', 'deleted']).optional(), ...pagination }),
    response: obj({ clients: z.array(clientSummary), nextToken: optionalNextToken }),
  }),
  getClientGrowth: defineRoute({
    operationId: 'getClientGrowth',
    method: 'GET',
    path: '/api/admin/clients/growth',
    group: 'admin',
    auth: 'admin',
    summary: 'Client growth series (one point per day)',
    query: z.object({ days: queryInt(1, 365, 30) }),
    response: obj({
      series: z.array(obj({ date: z.string(), total: count, new: count, active: count })),
    }),
  }),
  listActivity: defineRoute({
    operationId: 'listActivity',
    method: 'GET',
    path: '/api/admin/activity',
    group: 'admin',
    auth: 'admin',
    summary: 'Recent system events',
    query: z.object({ type: z.string().max(64).optional(), client_id: uuid.optional(), ...pagination }),
    response: obj({
      events: z.array(
        obj({
          id: z.string(),
          type: z.string(),
          severity,
          message: z.string(),
          client_id: nstr,
          agent_id: nstr,
          created_at: z.string(),
        }),
      ),
      nextToken: optionalNextToken,
    }),
  }),
  getSystemHealth: defineRoute({
    operationId: 'getSystemHealth',
    method: 'GET',
    path: '/api/admin/system-health',
    group: 'admin',
    auth: 'admin',
    summary: 'Component health: API, database, decision engine, agents, jobs, EC2 event feed',
    response: obj({
      api_status: z.string(),
      database: z.string(),
      decision_engine: z.string(),
      agents: obj({ online: count, offline: count }),
      jobs: z.array(obj({ name: z.string(), last_run_at: nstr, last_status: nstr })),
      ec2_events_last_received_at: nstr,
    }),
  }),
  listAllInstances: defineRoute({
    operationId: 'listAllInstances',
    method: 'GET',
    path: '/api/admin/instances',
    group: 'admin',
    auth: 'admin',
    summary: 'All instances',
    query: z.object({
      status: z.enum(['active', 'zombie', 'terminated', 'all']).optional(),
      mode: mode.optional(),
      region: z.string().max(32).optional(),
      client_id: uuid.optional(),
      ...pagination,
    }),
    response: obj({
      instances: z.array(instanceSchema.extend({ client_name: nstr })),
      nextToken: optionalNextToken,
    }),
  }),
  listAllAgents: defineRoute({
    operationId: 'listAllAgents',
    method: 'GET',
    path: '/api/admin/agents',
    group: 'admin',
    auth: 'admin',
    summary: 'All agents',
    query: z.object({ status: agentStatus.optional(), client_id: uuid.optional(), ...pagination }),
    response: obj({
      agents: z.array(agentSchema.extend({ client_name: nstr })),
      nextToken: optionalNextToken,
    }),
  }),
  globalSearch: defineRoute({
    operationId: 'globalSearch',
    method: 'GET',
    path: '/api/admin/search',
    group: 'admin',
    auth: 'admin',
    summary: 'Global search: exact id match, case-insensitive prefix on names and hostnames (20 per type)',
    query: z.object({ q: z.string().trim().min(2).max(200), types: searchTypes.optional() }),
    response: obj({
      query: z.string(),
      results: obj({
        clients: z.array(obj({})).max(20),
        instances: z.array(obj({})).max(20),
        agents: z.array(obj({})).max(20),
      }),
    }),
  }),
  getPoolStatistics: defineRoute({
    operationId: 'getPoolStatistics',
    method: 'GET',
    path: '/api/admin/pools/statistics',
    group: 'admin',
    auth: 'admin',
    summary: 'Spot pool statistics (active = priced within 24 h, high risk = risk above 0.7)',
    query: z.object({ region: z.string().max(32).optional(), instance_type: z.string().max(64).optional() }),
    response: obj({
      total_pools: count,
      active_pools: count,
      regions: z.array(obj({ region: z.string(), pools: count, average_price: nnum })),
      high_risk_pools: z.array(obj({ pool_id: z.string(), risk_score: z.number() })),
    }),
  }),
  getAgentHealthSummary: defineRoute({
    operationId: 'getAgentHealthSummary',
    method: 'GET',
    path: '/api/admin/agents/health-summary',
    group: 'admin',
    auth: 'admin',
    summary: 'Agent health rollup (heartbeat buckets: < 60 s, 60–120 s, > 120 s)',
    response: obj({
      online: count,
      offline: count,
      disabled: count,
      deleted: count,
      by_client: z.array(obj({ client_id: z.string(), online: count, offline: count })),
      recent_offline: z.array(obj({ agent_id: z.string(), last_heartbeat: nstr })),
      heartbeat_distribution: obj({ healthy: count, degraded: count, critical: count }),
    }),
  }),
  bulkExecute: defineRoute({
    operationId: 'bulkExecute',
    method: 'POST',
    path: '/api/admin/bulk/execute',
    group: 'admin',
    auth: 'admin',
    summary: 'Bulk agent operations (explicit confirm required)',
    body: z.object({
      operation: z.enum(['enable_agents', 'disable_agents', 'delete_agents', 'terminate_zombies']),
      agent_ids: z.array(uuid).min(1).max(100),
      confirm: z.literal(true),
    }),
    response: obj({
      operation: z.string(),
      succeeded: count,
      failed: count,
      results: z.array(obj({ agent_id: z.string(), status: z.string(), error: z.string().optional() })),
    }),
  }),
  getOperationalMetrics: defineRoute({
    operationId: 'getOperationalMetrics',
    method: 'GET',
    path: '/api/admin/metrics/operational',
    group: 'admin',
    auth: 'admin',
    summary: 'Operations dashboard over a window (default 24h)',
    // API.md gives no default window; 24h is the middle option.
    query: z.object({ window: z.enum(['1h', '24h', '7d']).default('24h') }),
    response: obj({
      heartbeat_miss_rate: nnum,
      switches: obj({ total: count, failed: count }),
      switch_downtime_seconds: obj({ avg: nnum, p95: nnum }),
      emergency: obj({ events: count, promoted_within_120s_ratio: nnum }),
      commands: obj({ pending: count, expired: count }),
      newest_price_age_seconds: nnum,
    }),
  }),
  listConsolidationJobs: defineRoute({
    operationId: 'listConsolidationJobs',
    method: 'GET',
    path: '/api/admin/consolidation-jobs',
    group: 'admin',
    auth: 'admin',
    summary: 'Pricing-consolidation job runs',
    query: z.object({ status: z.string().max(32).optional(), ...pagination }),
    response: obj({
      jobs: z.array(
        obj({
          id: z.string(),
          status: z.string(),
          window_start: nstr,
          window_end: nstr,
          finished_at: nstr,
          points_read: nnum,
          duplicates_removed: nnum,
          points_interpolated: nnum,
          error: nstr,
        }),
      ),
      nextToken: optionalNextToken,
    }),
  }),
  listEmergencyEvents: defineRoute({
    operationId: 'listEmergencyEvents',
    method: 'GET',
    path: '/api/admin/emergency-events',
    group: 'admin',
    auth: 'admin',
    summary: 'Emergency log with a summary by signal and outcome',
    query: z.object({ client_id: uuid.optional(), ...emergencyLogFilters }),
    response: emergencyLogPage,
  }),
};

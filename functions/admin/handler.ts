import { createGroupHandler } from '../shared/http/create-handler.js';
import { bulkExecute } from './bulk.js';
import { listConsolidationJobs } from './consolidation-jobs.js';
import { agentHealthSummary, clientGrowth, getStats, operationalMetrics } from './dashboards.js';
import { listEmergencyEvents } from './emergency-events.js';
import { listActivity, listAgents, listClients, listInstances } from './lists.js';
import { getPoolStatistics } from './pool-statistics.js';
import { adminRoutes } from './routes.js';
import { search } from './search.js';
import { systemHealth } from './system-health.js';

export const handler = createGroupHandler(adminRoutes, {
  getAdminStats: async () => getStats(),
  listAllClients: async ({ query }) => listClients(query),
  getClientGrowth: async ({ query }, ctx) => clientGrowth(query.days, ctx.now),
  listActivity: async ({ query }) => listActivity(query),
  getSystemHealth: async (_input, ctx) => systemHealth(ctx.now),
  listAllInstances: async ({ query }) => listInstances(query),
  listAllAgents: async ({ query }) => listAgents(query),
  globalSearch: async ({ query }) => search(query.q, query.types),
  getAgentHealthSummary: async (_input, ctx) => agentHealthSummary(ctx.now),
  bulkExecute: async ({ body }, ctx) => bulkExecute(body, ctx.now),
  getOperationalMetrics: async ({ query }, ctx) => operationalMetrics(query.window, ctx.now),
  listConsolidationJobs: async ({ query }) => listConsolidationJobs(query),
  getPoolStatistics: async ({ query }, ctx) => getPoolStatistics(query, ctx.now),
  listEmergencyEvents: async ({ query }) => listEmergencyEvents(query),
});

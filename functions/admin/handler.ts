import { createGroupHandler } from '../shared/http/create-handler.js';
import { adminRoutes } from './routes.js';
import * as admin from './service.js';
import { listConsolidationJobs } from './consolidation-jobs.js';
import { listEmergencyEvents } from './emergency-events.js';
import { getPoolStatistics } from './pool-statistics.js';

export const handler = createGroupHandler(adminRoutes, {
  // Dashboards, lists, search and bulk operations (issue 5): functions/admin/service.ts.
  getAdminStats: async () => admin.getStats(),
  listAllClients: async ({ query }) => admin.listClients(query),
  getClientGrowth: async ({ query }, ctx) => admin.clientGrowth(query.days, ctx.now),
  listActivity: async ({ query }) => admin.listActivity(query),
  getSystemHealth: async (_input, ctx) => admin.systemHealth(ctx.now),
  listAllInstances: async ({ query }) => admin.listInstances(query),
  listAllAgents: async ({ query }) => admin.listAgents(query),
  globalSearch: async ({ query }) => admin.search(query.q, query.types),
  getAgentHealthSummary: async (_input, ctx) => admin.agentHealthSummary(ctx.now),
  bulkExecute: async ({ body }, ctx) => admin.bulkExecute(body, ctx.now),
  getOperationalMetrics: async ({ query }, ctx) => admin.operationalMetrics(query.window, ctx.now),
  // Pricing pipeline (instances & pricing owner): services in functions/instances/.
  listConsolidationJobs: async ({ query }) => listConsolidationJobs(query),
  getPoolStatistics: async ({ query }, ctx) => getPoolStatistics(query, ctx.now),
  // Emergency log (interruption handling owner, issue 3): functions/emergency/admin-events.ts.
  listEmergencyEvents: async ({ query }) => listEmergencyEvents(query),
});

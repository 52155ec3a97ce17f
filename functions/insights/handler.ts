import { createGroupHandler } from '../shared/http/create-handler.js';
import { insightsRoutes } from './routes.js';
import {
  agentCommands,
  agentDecisions,
  clientEmergencyEvents,
  dailySavings,
  failoverInsights,
  poolInsights,
  savingsByCause,
} from './service.js';

export const handler = createGroupHandler(insightsRoutes, {
  listAgentCommands: async ({ params, query }, ctx) => agentCommands(ctx.caller, params.aid, query),
  listAgentDecisions: async ({ params, query }, ctx) => agentDecisions(ctx.caller, params.aid, query),
  listClientEmergencyEvents: async ({ params, query }) => clientEmergencyEvents(params.cid, query),
  getDailySavings: async ({ params, query }, ctx) => dailySavings(params.cid, query.days, ctx.now),
  getSavingsByCause: async ({ params, query }, ctx) => savingsByCause(params.cid, query.days, ctx.now),
  getPoolInsights: async ({ params, query }, ctx) => poolInsights(params.cid, query.days, ctx.now),
  getFailoverInsights: async ({ params, query }, ctx) => failoverInsights(params.cid, query.days, ctx.now),
});

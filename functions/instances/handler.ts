import { createGroupHandler } from '../shared/http/create-handler.js';
import { instancesRoutes } from './routes.js';
import * as instances from './service.js';

export const handler = createGroupHandler(instancesRoutes, {
  listClientInstances: async ({ params, query }) => instances.listClientInstances(params.cid, query),
  getInstancePricing: async ({ params }, ctx) => instances.getInstancePricing(ctx.caller, params.iid),
  getInstanceMetrics: async ({ params }, ctx) => instances.getInstanceMetrics(ctx.caller, params.iid, ctx.now),
  getInstancePriceHistory: async ({ params, query }, ctx) =>
    instances.getInstancePriceHistory(ctx.caller, params.iid, query, ctx.now),
  getPricingHistory: async ({ query }, ctx) => instances.getPricingHistory(ctx.caller, query, ctx.now),
  getAvailableOptions: async ({ params }, ctx) => instances.getAvailableOptions(ctx.caller, params.iid),
  getInstanceLogs: async ({ params, query }, ctx) => instances.getInstanceLogs(ctx.caller, params.iid, query),
  getPoolVolatility: async ({ params, query }, ctx) =>
    instances.getPoolVolatility(ctx.caller, params.iid, query, ctx.now),
  simulateSwitch: async ({ params, body }, ctx) => instances.simulateSwitch(ctx.caller, params.iid, body, ctx.now),
});

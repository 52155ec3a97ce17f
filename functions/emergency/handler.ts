import { createGroupHandler } from '../shared/http/create-handler.js';
import { reply } from '../shared/http/route.js';
import { emergencyRoutes } from './routes.js';
import * as emergency from './service.js';

export const handler = createGroupHandler(emergencyRoutes, {
  createEmergencyReplica: async ({ params, body }, ctx) => {
    // 201 when a replica is created, 200 otherwise (existing replica or a decline).
    const out = await emergency.createEmergencyReplica(ctx.caller, params.aid, body, ctx.now);
    return reply(out.status, out.body);
  },
  terminationImminent: async ({ params, body }, ctx) =>
    emergency.terminationImminent(ctx.caller, params.aid, body, ctx.now),
  rebalanceRecommendation: async ({ params, body }, ctx) =>
    emergency.rebalanceRecommendation(ctx.caller, params.aid, body, ctx.now),
  getEmergencyStatus: async ({ params }, ctx) => emergency.emergencyStatus(ctx.caller, params.aid),
  getInstancesToTerminate: async ({ params }, ctx) =>
    emergency.instancesToTerminate(ctx.caller, params.aid, ctx.now),
});

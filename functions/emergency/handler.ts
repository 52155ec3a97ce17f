import { createGroupHandler } from '../shared/http/create-handler.js';
import { emergencyRoutes } from './routes.js';
import * as emergency from './service.js';

export const handler = createGroupHandler(emergencyRoutes, {
  getInstancesToTerminate: async ({ params }, ctx) => emergency.instancesToTerminate(ctx.caller, params.aid, ctx.now),
});

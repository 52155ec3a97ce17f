import { createGroupHandler } from '../shared/http/create-handler.js';
import { replicasRoutes } from './routes.js';
import * as replicas from './service.js';

export const handler = createGroupHandler(replicasRoutes, {
  listReplicas: async ({ params, query }, ctx) => replicas.listReplicas(ctx.caller, params.aid, query, ctx.now),
});

import { createGroupHandler } from '../shared/http/create-handler.js';
import { replicasRoutes } from './routes.js';
import * as replicas from './service.js';

export const handler = createGroupHandler(replicasRoutes, {
  listReplicas: async ({ params, query }, ctx) => replicas.listReplicas(ctx.caller, params.aid, query, ctx.now),
  createReplica: async ({ params, body }, ctx) => replicas.createReplica(ctx.caller, params.aid, body, ctx.now),
  attachReplica: async ({ params, body, ifMatchVersion }, ctx) =>
    replicas.attachReplica(ctx.caller, params.aid, params.rid, body, ifMatchVersion, ctx.now),
  deleteReplica: async ({ params }, ctx) => replicas.deleteReplica(ctx.caller, params.aid, params.rid, ctx.now),
  promoteReplica: async ({ params, body, ifMatchVersion }, ctx) =>
    replicas.promoteReplica(ctx.caller, params.aid, params.rid, body, ifMatchVersion, ctx.now),
  updateReplicaStatus: async ({ params, body }, ctx) =>
    replicas.updateReplicaStatus(ctx.caller, params.aid, params.rid, body, ctx.now),
  updateReplicaSyncStatus: async ({ params, body }, ctx) =>
    replicas.updateReplicaSyncStatus(ctx.caller, params.aid, params.rid, body, ctx.now),
  getReplicaConfig: async ({ params }, ctx) => replicas.getReplicaConfig(ctx.caller, params.aid),
  listClientReplicas: async ({ params, query }, ctx) => replicas.listClientReplicas(params.cid, query, ctx.now),
});

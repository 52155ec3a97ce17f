import { createGroupHandler } from '../shared/http/create-handler.js';
import { decisionsRoutes } from './routes.js';
import * as decisions from './service.js';

export const handler = createGroupHandler(decisionsRoutes, {
  decide: async ({ params, body }, ctx) => decisions.decide(ctx.caller, params.aid, body, ctx.now),
  getSwitchRecommendation: async ({ params }, ctx) => decisions.switchRecommendation(ctx.caller, params.aid, ctx.now),
  getAgentStatistics: async ({ params, query }, ctx) =>
    decisions.agentStatistics(ctx.caller, params.aid, query.days, ctx.now),
  listClientAgentDecisions: async ({ params, query }, ctx) =>
    decisions.clientAgentDecisions(params.cid, query.history, ctx.now),
  uploadMlModel: async ({ body }, ctx) => decisions.createUpload('model', body, ctx.now),
  uploadDecisionEngine: async ({ body }, ctx) => decisions.createUpload('engine', body, ctx.now),
  activateMlModel: async ({ body }, ctx) => decisions.activateUpload(body.upload_id, ctx.now),
  fallbackMlModel: async (_input, ctx) => decisions.fallbackUpload(ctx.now),
  listMlModelSessions: async ({ query }) => decisions.listUploads(query.kind),
});

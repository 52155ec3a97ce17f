import { createGroupHandler } from '../shared/http/create-handler.js';
import { reply } from '../shared/http/route.js';
import { agentsRoutes } from './routes.js';
import * as agents from './service.js';

export const handler = createGroupHandler(agentsRoutes, {
  registerAgent: async ({ body }, ctx) => {
    const { status, body: out } = await agents.register(
      ctx.caller,
      { ...body, mode: body.mode ?? undefined },
      ctx.now,
    );
    return reply(status, out);
  },
  heartbeat: async ({ params, body }, ctx) =>
    agents.heartbeat(
      ctx.caller,
      params.aid,
      {
        status: body.status,
        instance_id: body.instance_id ?? undefined,
        instance_type: body.instance_type ?? undefined,
        mode: body.mode ?? undefined,
        az: body.az ?? undefined,
      },
      ctx.now,
    ),
  getAgent: async ({ params }, ctx) => agents.getAgent(ctx.caller, params.aid),
  getAgentConfig: async ({ params }, ctx) => agents.getAgentConfig(ctx.caller, params.aid),
  announceTermination: async ({ params, body }, ctx) => agents.announceTermination(ctx.caller, params.aid, body, ctx.now),
  listClientAgents: async ({ params, query }) => agents.listClientAgents(params.cid, query),
  listClientAgentHistory: async ({ params, query }) => agents.listClientAgentHistory(params.cid, query),
  toggleAgentEnabled: async ({ params, body, ifMatchVersion }, ctx) =>
    agents.toggleEnabled(ctx.caller, params.aid, body, ifMatchVersion, ctx.now),
  updateAgentConfig: async ({ params, body, ifMatchVersion }, ctx) =>
    agents.updateConfig(ctx.caller, params.aid, body, ifMatchVersion, ctx.now),
  deleteAgent: async ({ params }, ctx) => agents.deleteAgent(ctx.caller, params.aid, ctx.now),
});

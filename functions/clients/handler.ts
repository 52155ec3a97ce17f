import { createGroupHandler } from '../shared/http/create-handler.js';
import { clientsRoutes } from './routes.js';
import * as clients from './service.js';

export const handler = createGroupHandler(clientsRoutes, {
  createClient: async ({ body }, ctx) => clients.createClient(body, ctx.now),
  deleteClient: async ({ params }, ctx) => clients.deleteClient(params.cid, ctx.now),
  regenerateClientToken: async ({ params, body }, ctx) =>
    clients.regenerateToken(params.cid, body.grace_period_seconds, ctx.now),
  getClientToken: async ({ params }) => clients.getTokenInfo(params.cid),
  validateToken: async (_input, ctx) => clients.validate(ctx.caller),
  getClient: async ({ params }) => clients.getClientOverview(params.cid),
});

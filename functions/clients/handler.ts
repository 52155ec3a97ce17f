import { createGroupHandler } from '../shared/http/create-handler.js';
import { reply } from '../shared/http/route.js';
import { clientsRoutes } from './routes.js';
import * as clients from './service.js';

export const handler = createGroupHandler(clientsRoutes, {
  // The created client is a single resource wrapped in `client`: it carries its ETag too (API.md §1.2).
  createClient: async ({ body }, ctx) => {
    const out = await clients.createClient(body, ctx.now);
    return reply(201, out, { etag: `"${out.client.version}"` });
  },
  deleteClient: async ({ params }, ctx) => clients.deleteClient(params.cid, ctx.now),
  regenerateClientToken: async ({ params, body }, ctx) =>
    clients.regenerateToken(params.cid, body.grace_period_seconds, ctx.now, ctx.idempotencyScope),
  getClientToken: async ({ params }) => clients.getTokenInfo(params.cid),
  validateToken: async (_input, ctx) => clients.validate(ctx.caller),
  getClient: async ({ params }) => clients.getClientOverview(params.cid),
});

import { createGroupHandler } from '../shared/http/create-handler.js';
import { reply } from '../shared/http/route.js';
import { healthRoutes } from './routes.js';
import { banner, health } from './service.js';

export const handler = createGroupHandler(healthRoutes, {
  getBanner: async (_input, ctx) => banner(ctx.now),
  getHealth: async (_input, ctx) => {
    const result = await health(ctx.now);
    return reply(result.ok ? 200 : 503, result.body);
  },
});

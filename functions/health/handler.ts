import { createGroupHandler } from '../shared/http/create-handler.js';
import { reply } from '../shared/http/route.js';
import { healthRoutes } from './routes.js';
import { banner, health, prefersHtml } from './service.js';

export const handler = createGroupHandler(healthRoutes, {
  // API clients keep the JSON banner (API.md §3.1); a browser is sent to the console. Vary: Accept
  // keeps caches from handing one answer to the other.
  getBanner: async ({ headers }, ctx) =>
    prefersHtml(headers.accept)
      ? reply(303, '', { 'location': '/console', 'vary': 'Accept', 'cache-control': 'no-cache' })
      : reply(200, banner(ctx.now), { vary: 'Accept' }),
  getHealth: async (_input, ctx) => {
    const result = await health(ctx.now);
    return reply(result.ok ? 200 : 503, result.body);
  },
});

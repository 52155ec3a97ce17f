import { createGroupHandler } from '../shared/http/create-handler.js';
import { reply } from '../shared/http/route.js';
import { eventsRoutes } from './routes.js';
import { readFeed, toSse } from './service.js';

export const handler = createGroupHandler(eventsRoutes, {
  streamEvents: async ({ query, headers }, ctx) => {
    const page = await readFeed(ctx.caller, query, headers['last-event-id'], ctx.now);
    if (query.format === 'json') return page;
    // A finished SSE batch (API Gateway HTTP APIs cannot hold a stream open): see README "Events feed".
    return reply(200, toSse(page, ctx.now), {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
    });
  },
});

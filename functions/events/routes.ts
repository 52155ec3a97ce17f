import * as z from 'zod';
import { defineRoute } from '../shared/http/route.js';
import { nullable, obj, uuid } from '../shared/http/schemas.js';

const eventType = z.enum([
  'agent_status_changed',
  'instance_role_changed',
  'command_status_changed',
  'switch_completed',
  'emergency_event',
  'notification_created',
]);

/** `types=a,b`: a comma-separated subset of the event types. */
const eventTypes = z
  .string()
  .max(500)
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  )
  .pipe(z.array(eventType).min(1));

/** API.md §3.13: one route. `format=sse` (default) answers text/event-stream; `format=json` an object. */
export const eventsRoutes = {
  streamEvents: defineRoute({
    operationId: 'streamEvents',
    method: 'GET',
    path: '/api/events/stream',
    group: 'events',
    auth: 'client',
    responseKind: 'sse',
    summary:
      'Up to 100 events after the cursor (retained 24 h); SSE starts with retry: 5000 and ends with event: heartbeat. `Last-Event-ID` also sets the cursor',
    query: z.object({
      since: z.string().max(256).optional(),
      types: eventTypes.optional(),
      client_id: uuid.optional(),
      format: z.enum(['sse', 'json']).default('sse'),
    }),
    // A string for SSE; the json format's object otherwise (both are the route's 200).
    response: z.union([
      z.string(),
      obj({
        events: z.array(obj({ id: z.string(), type: eventType, data: z.unknown(), created_at: z.string() })),
        next_cursor: nullable(z.string()),
      }),
    ]),
  }),
};

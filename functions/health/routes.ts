import * as z from 'zod';
import { defineRoute } from '../shared/http/route.js';
import { obj } from '../shared/http/schemas.js';

export const healthRoutes = {
  getBanner: defineRoute({
    operationId: 'getBanner',
    method: 'GET',
    path: '/',
    group: 'health',
    auth: 'none',
    summary: 'Service banner',
    response: obj({ name: z.literal('spot-optimizer'), version: z.string(), api_base: z.literal('/api'), timestamp: z.string() }),
  }),
  getHealth: defineRoute({
    operationId: 'getHealth',
    method: 'GET',
    path: '/health',
    group: 'health',
    auth: 'none',
    summary: 'Health check (one DynamoDB read with a 1 s budget); 503 when unhealthy',
    response: obj({
      status: z.enum(['healthy', 'degraded']),
      timestamp: z.string(),
      version: z.string(),
      checks: obj({ database: z.string(), scheduler: z.string() }),
    }),
  }),
};

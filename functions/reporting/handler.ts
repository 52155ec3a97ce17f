import { createGroupHandler } from '../shared/http/create-handler.js';
import { reportingRoutes } from './routes.js';
import * as reporting from './service.js';

export const handler = createGroupHandler(reportingRoutes, {
  pricingReport: async ({ params, body }, ctx) => reporting.recordPricingReport(ctx.caller, params.aid, body, ctx.now),
  cleanupReport: async ({ params, body }, ctx) => reporting.recordCleanupReport(ctx.caller, params.aid, body, ctx.now),
  switchReport: async ({ params, body }, ctx) => reporting.recordSwitchReport(ctx.caller, params.aid, body, ctx.now),
  terminationReport: async ({ params, body }, ctx) =>
    reporting.recordTerminationReport(ctx.caller, params.aid, body, ctx.now),
});

import { createGroupHandler } from '../shared/http/create-handler.js';
import { analyticsRoutes } from './routes.js';
import * as analytics from './service.js';

export const handler = createGroupHandler(analyticsRoutes, {
  getSavingsSummary: async ({ params, query }, ctx) => analytics.savingsSummary(params.cid, query.months, ctx.now),
  getSwitchHistory: async ({ params, query }) => analytics.switchHistory(params.cid, query),
  getDashboardCharts: async ({ params, query }, ctx) =>
    analytics.dashboardCharts(params.cid, query.months, query.days, ctx.now),
  getDowntimeAnalytics: async ({ params, query }, ctx) =>
    analytics.downtimeAnalytics(params.cid, query.window_hours, ctx.now),
  exportSavingsCsv: async ({ params, query }, ctx) => analytics.exportSavingsCsv(params.cid, query, ctx.now),
  exportSwitchHistoryCsv: async ({ params, query }, ctx) =>
    analytics.exportSwitchHistoryCsv(params.cid, query, ctx.now),
  exportGlobalStatsCsv: async (_input, ctx) => analytics.exportGlobalStatsCsv(ctx.now),
});

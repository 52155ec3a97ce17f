import { createGroupHandler } from '../shared/http/create-handler.js';
import { notificationsRoutes } from './routes.js';
import * as notifications from './service.js';

export const handler = createGroupHandler(notificationsRoutes, {
  listNotifications: async ({ query }, ctx) => notifications.listNotifications(ctx.caller, query),
  markNotificationRead: async ({ params }, ctx) => notifications.markRead(ctx.caller, params.nid, ctx.now),
  markAllNotificationsRead: async ({ body }, ctx) => notifications.markAllRead(ctx.caller, body, ctx.now),
  listPricingAlerts: async ({ params }) => notifications.listPricingAlerts(params.cid),
  upsertPricingAlert: async ({ params, body, ifMatchVersion }, ctx) =>
    notifications.upsertPricingAlert(params.cid, body, ifMatchVersion, ctx.now),
});

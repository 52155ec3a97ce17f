import * as z from 'zod';
import {
  alertType,
  count,
  notificationChannel,
  notificationSchema,
  pricingAlertSchema,
  severity,
} from '../shared/http/resource-schemas.js';
import { defineRoute } from '../shared/http/route.js';
import { cidParams, isoTimestamp, obj, poolId, queryBool, uuid, version } from '../shared/http/schemas.js';

const httpsUrl = z
  .string()
  .max(2048)
  .url()
  .refine((v) => v.toLowerCase().startsWith('https://'), { message: 'must be an https URL' });

/** API.md §3.12: 5 client routes. `client_id` selects a client for the admin token only. */
export const notificationsRoutes = {
  listNotifications: defineRoute({
    operationId: 'listNotifications',
    method: 'GET',
    path: '/api/notifications',
    group: 'notifications',
    auth: 'client',
    summary: "The caller's notifications (the admin token also sees system-wide ones)",
    query: z.object({
      unread_only: queryBool(false),
      severity: severity.optional(),
      client_id: uuid.optional(),
    }),
    response: obj({ notifications: z.array(notificationSchema), unread_count: count }),
  }),
  markNotificationRead: defineRoute({
    operationId: 'markNotificationRead',
    method: 'POST',
    path: '/api/notifications/{nid}/mark-read',
    group: 'notifications',
    auth: 'client',
    summary: 'Mark one notification read',
    params: z.object({ nid: uuid }),
    response: obj({ id: z.string(), is_read: z.literal(true) }),
  }),
  markAllNotificationsRead: defineRoute({
    operationId: 'markAllNotificationsRead',
    method: 'POST',
    path: '/api/notifications/mark-all-read',
    group: 'notifications',
    auth: 'client',
    summary: 'Mark all notifications read (optionally only those created before `before`)',
    body: z.object({ client_id: uuid.optional(), before: isoTimestamp.optional() }),
    response: obj({ updated: count }),
  }),
  listPricingAlerts: defineRoute({
    operationId: 'listPricingAlerts',
    method: 'GET',
    path: '/api/client/{cid}/pricing-alerts',
    group: 'notifications',
    auth: 'client',
    summary: "A client's pricing alerts",
    params: cidParams,
    response: obj({ alerts: z.array(pricingAlertSchema) }),
  }),
  upsertPricingAlert: defineRoute({
    operationId: 'upsertPricingAlert',
    method: 'POST',
    path: '/api/client/{cid}/pricing-alerts',
    group: 'notifications',
    auth: 'client',
    status: 201,
    summary:
      'Create a pricing alert (201; at most 50 per client); with alert_id + version it updates that alert instead (200)',
    params: cidParams,
    body: z.object({
      alert_id: uuid.optional(),
      version: version.optional(),
      alert_type: alertType,
      threshold: z.number().finite(),
      pool_id: poolId.optional(),
      enabled: z.boolean().optional(),
      notification_channels: z.array(notificationChannel).max(3).optional(),
      webhook_url: httpsUrl.optional(),
    }),
    response: pricingAlertSchema,
  }),
};

import { adminRoutes } from './admin/routes.js';
import { agentsRoutes } from './agents/routes.js';
import { analyticsRoutes } from './analytics/routes.js';
import { clientsRoutes } from './clients/routes.js';
import { commandsRoutes } from './commands/routes.js';
import { consoleRoutes } from './console/routes.js';
import { decisionsRoutes } from './decisions/routes.js';
import { emergencyRoutes } from './emergency/routes.js';
import { eventsRoutes } from './events/routes.js';
import { healthRoutes } from './health/routes.js';
import { insightsRoutes } from './insights/routes.js';
import { instancesRoutes } from './instances/routes.js';
import { notificationsRoutes } from './notifications/routes.js';
import { replicasRoutes } from './replicas/routes.js';
import { reportingRoutes } from './reporting/routes.js';
import type { GroupName, RouteDef } from './shared/http/route.js';

/** Every group's routes, keyed by group: the one source for CDK, the local server and OpenAPI. */
export const ROUTES_BY_GROUP: Record<GroupName, Record<string, RouteDef>> = {
  health: healthRoutes,
  clients: clientsRoutes,
  admin: adminRoutes,
  agents: agentsRoutes,
  commands: commandsRoutes,
  replicas: replicasRoutes,
  emergency: emergencyRoutes,
  instances: instancesRoutes,
  decisions: decisionsRoutes,
  reporting: reportingRoutes,
  analytics: analyticsRoutes,
  notifications: notificationsRoutes,
  events: eventsRoutes,
  // Console additions (README): read models for people, and the console's own assets.
  insights: insightsRoutes,
  console: consoleRoutes,
};

/** The route table: API.md's 89 routes (85 operations + 4 aliases) and the console's 9 (README). */
export const ROUTE_TABLE: RouteDef[] = Object.values(ROUTES_BY_GROUP).flatMap((group) => Object.values(group));

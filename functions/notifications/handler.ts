import { createGroupHandler } from '../shared/http/create-handler.js';
import { notificationsRoutes } from './routes.js';

export const handler = createGroupHandler(notificationsRoutes, {});

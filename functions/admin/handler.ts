import { createGroupHandler } from '../shared/http/create-handler.js';
import { adminRoutes } from './routes.js';

export const handler = createGroupHandler(adminRoutes, {});

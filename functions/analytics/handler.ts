import { createGroupHandler } from '../shared/http/create-handler.js';
import { analyticsRoutes } from './routes.js';

export const handler = createGroupHandler(analyticsRoutes, {});

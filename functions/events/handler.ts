import { createGroupHandler } from '../shared/http/create-handler.js';
import { eventsRoutes } from './routes.js';

export const handler = createGroupHandler(eventsRoutes, {});

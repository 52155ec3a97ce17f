import { createGroupHandler } from '../shared/http/create-handler.js';
import { decisionsRoutes } from './routes.js';

export const handler = createGroupHandler(decisionsRoutes, {});

import { createGroupHandler } from '../shared/http/create-handler.js';
import { instancesRoutes } from './routes.js';

export const handler = createGroupHandler(instancesRoutes, {});

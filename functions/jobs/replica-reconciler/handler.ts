import { createJobHandler } from '../../shared/jobs/create-job-handler.js';
import { reconcileReplicas } from './job.js';

export const handler = createJobHandler('replica-reconciler', (now) => reconcileReplicas(now));

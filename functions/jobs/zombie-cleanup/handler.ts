import { createJobHandler } from '../../shared/jobs/create-job-handler.js';
import { cleanUpZombies } from './job.js';

export const handler = createJobHandler('zombie-cleanup', (now) => cleanUpZombies(now));

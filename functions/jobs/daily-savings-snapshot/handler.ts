import { createJobHandler } from '../../shared/jobs/create-job-handler.js';
import { dailySavingsSnapshot } from './job.js';

export const handler = createJobHandler('daily-savings-snapshot', dailySavingsSnapshot);

import { createJobHandler } from '../../shared/jobs/create-job-handler.js';
import { analysePoolRisk } from './job.js';

export const handler = createJobHandler('pool-risk-analysis', (now) => analysePoolRisk(now));

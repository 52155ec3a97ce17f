import { createJobHandler } from '../../shared/jobs/create-job-handler.js';
import { timeOutStaleAgents } from './job.js';

export const handler = createJobHandler('agent-heartbeat-timeout', timeOutStaleAgents);

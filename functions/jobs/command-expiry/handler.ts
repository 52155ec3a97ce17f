import { createJobHandler } from '../../shared/jobs/create-job-handler.js';
import { expireCommands } from './job.js';

export const handler = createJobHandler('command-expiry', expireCommands);

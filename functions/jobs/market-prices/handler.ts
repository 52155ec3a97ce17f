import { createJobHandler } from '../../shared/jobs/create-job-handler.js';
import { refreshMarketPrices } from './job.js';

/** Scheduled every 30 min; on demand: invoke the Lambda (`{}`), locally POST /local/jobs/market-prices. */
export const handler = createJobHandler('market-prices', (now) => refreshMarketPrices(now));

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/** One logger and one metrics emitter per process (Powertools: structured JSON, EMF). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'spot-optimizer' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SpotOptimizer',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'spot-optimizer',
});

export { MetricUnit };

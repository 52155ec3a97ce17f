import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/** One logger and one metrics emitter per process (Powertools: structured JSON, EMF). */
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'spot-optimizer' });
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'SpotOptimizer',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'spot-optimizer',
});

export { MetricUnit };

/**
 * X-Ray: Powertools Tracer, loaded only inside Lambda (AWS_EXECUTION_ENV=AWS_Lambda_…). The X-Ray
 * SDK installs async hooks when imported; the local runtime, the tests and the scripts never pay for
 * that (Tracer would disable itself outside Lambda anyway, after the import).
 */
const inLambda = (process.env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
export const tracer: Tracer | undefined = inLambda
  ? new (await import('@aws-lambda-powertools/tracer')).Tracer()
  : undefined;

/** An SDK client whose calls become X-Ray subsegments in Lambda; the client itself elsewhere. */
export function traced<T>(client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { logger, MetricUnit, metrics } from '../shared/observability.js';
import { MalformedEventError, parseEc2Event } from './schemas.js';
import { EventInProgressError, processEc2Event } from './service.js';

/**
 * The `ec2-events` Lambda: EventBridge → one event per invocation (API.md §5). The event is
 * validated here, at the edge (zod, schemas.ts): a malformed event throws, so EventBridge/Lambda
 * retry it twice and then deliver it to the dead-letter queue; the service receives the typed
 * event. An unknown instance, a duplicate or an event we do not act on returns normally.
 */
export const handler = middy(async (event: unknown, _context: Context) => {
  try {
    return await processEc2Event(parseEc2Event(event), new Date());
  } catch (err) {
    if (err instanceof EventInProgressError) {
      logger.info('event delivered again while it is being processed: left to EventBridge\'s retry', { error: err });
    } else if (err instanceof MalformedEventError) {
      metrics.addMetric('Ec2EventMalformed', MetricUnit.Count, 1);
      logger.error('malformed EventBridge event: failing so it reaches the DLQ', { issues: err.issues });
    } else {
      logger.error('EC2 event processing failed', { error: err as Error });
    }
    throw err;
  }
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics, { captureColdStartMetric: true }));

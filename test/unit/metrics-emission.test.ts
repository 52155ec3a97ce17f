import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLambdaContext } from '../../bin/support/local-gateway.js';
import { appMetric } from '../../lib/constructs/monitoring.js';
import { captureOutput, jsonLines } from '../support/capture-output.js';

/**
 * What the alarms and the dashboard read must be what the functions write: a scheduled job's EMF
 * record, captured from stdout with metrics enabled, has the namespace, metric name and `service`
 * dimension the job alarm (lib/constructs/monitoring.ts appMetric) is built on.
 */
afterEach(() => {
  vi.unstubAllEnvs();
});

async function emfRecordsOf(run: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  return jsonLines(await captureOutput(run)).filter((r) => r._aws !== undefined);
}

describe('EMF emitted by a scheduled job', () => {
  it('JobSucceeded in namespace SpotOptimizer with the dimension service=<job>, as the job alarm reads it', async () => {
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'emf-probe-job');
    vi.resetModules();
    const { createJobHandler } = await import('../../functions/shared/jobs/create-job-handler.js');
    const handler = createJobHandler(`emf-probe-${Date.now()}`, async () => ({ ok: true }));
    const records = await emfRecordsOf(() => handler({}, createLambdaContext('emf-probe-job') as Context));

    const record = records.find((r) => 'JobSucceeded' in r);
    expect(record).toBeDefined();
    const directive = (record?._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] })
      .CloudWatchMetrics[0];
    const alarmMetric = appMetric('JobSucceeded', 'emf-probe-job');
    expect(directive?.Namespace).toBe(alarmMetric.namespace);
    expect(directive?.Dimensions).toEqual([Object.keys(alarmMetric.dimensions ?? {})]);
    expect(directive?.Metrics.map((m) => m.Name)).toContain('JobSucceeded');
    expect(record?.service).toBe(alarmMetric.dimensions?.service);
    expect(record?.JobSucceeded).toBe(1);
  });
});

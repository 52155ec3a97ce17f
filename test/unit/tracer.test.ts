import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';

/** observability.ts decides at import time, so each case imports a fresh copy. */
async function freshObservability(env: Record<string, string | undefined>) {
  vi.resetModules();
  for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
  return import('../../functions/shared/observability.js');
}

afterEach(() => {
  vi.unstubAllEnvs();
});

const middlewareNames = (client: DynamoDBClient) => client.middlewareStack.identify().join('\n');

describe('Powertools Tracer on the SDK clients', () => {
  it('in Lambda: every call of a traced client is captured for X-Ray', async () => {
    const { tracer, traced } = await freshObservability({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' });
    expect(tracer?.isTracingEnabled()).toBe(true);
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const before = middlewareNames(client);
    expect(traced(client)).toBe(client);
    expect(before).not.toMatch(/xray/i);
    expect(middlewareNames(client)).toMatch(/xray/i);
  });

  it('outside Lambda (local runtime, tests, scripts): no tracer, the client is left alone', async () => {
    const { tracer, traced } = await freshObservability({ AWS_EXECUTION_ENV: undefined });
    expect(tracer).toBeUndefined();
    const client = new DynamoDBClient({ region: 'us-east-1' });
    const before = middlewareNames(client);
    expect(traced(client)).toBe(client);
    expect(middlewareNames(client)).toBe(before);
  });

  it('the shared DynamoDB client is a traced one', async () => {
    const { ddb } = await (async () => {
      await freshObservability({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' });
      return import('../../functions/shared/db/client.js');
    })();
    expect(ddb.middlewareStack.identify().join('\n')).toMatch(/xray/i);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReplayMarket } from '../../../bin/support/market-replay.js';
import { createLambdaContext, type EventHandler, jobHandlerPath, loadHandler, scheduledEvent } from '../../../bin/support/local-gateway.js';
import { JOBS } from '../../../functions/jobs/job-table.js';
import { addDbHook } from '../../../functions/shared/db/client.js';
import { actionsOf, TABLE_ACTIONS } from '../../../functions/shared/db/table-access.js';
import { type MarketPriceSource, useMarketPriceSource } from '../../../functions/shared/market/market-prices.js';
import { useIsolatedTable } from '../../support/isolated-table.js';
import { newTenant, seedPool, setInstancePrices } from '../../support/tenants.js';

/**
 * Least privilege, checked against behaviour: every scheduled job, run by its handler on a small
 * installation (a client, an agent with prices, a pool), sends only DynamoDB commands its declared
 * table access allows — the declaration its IAM policy is built from.
 */
useIsolatedTable();

const calls: { command: string; input: Readonly<Record<string, unknown>> }[] = [];
let remove: (() => void) | undefined;
let previous: MarketPriceSource | undefined;

beforeAll(async () => {
  previous = useMarketPriceSource(await createReplayMarket());
  const t = await newTenant();
  await seedPool(t.instanceType, 'a', 0.03, { risk: 0.2 });
  await setInstancePrices(t.instanceId, 0.03, 0.1);
  remove = addDbHook('job-table-access-recorder', async (call, send) => {
    calls.push(call);
    return send({ ...call.input });
  });
});
afterAll(() => {
  remove?.();
  useMarketPriceSource(previous);
});

describe('each job sends only the DynamoDB commands it may', () => {
  it.each(JOBS.map((j) => [j.name, j] as const))('%s', async (_name, job) => {
    calls.length = 0;
    const handler = await loadHandler<EventHandler>(jobHandlerPath(job));
    await handler(scheduledEvent(job, new Date(Date.now() + 3_600_000)), createLambdaContext(`spot-optimizer-job-${job.name}`, 300_000));
    expect(calls.length, job.name).toBeGreaterThan(0);
    const allowed = new Set<string>(TABLE_ACTIONS[job.table]);
    const used = [...new Set(calls.flatMap((c) => actionsOf(c.command, c.input)))];
    expect(used.filter((a) => !allowed.has(a)), `${job.name} is declared ${job.table}`).toEqual([]);
  });
});

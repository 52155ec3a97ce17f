import { randomBytes } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { createLambdaContext } from '../../../bin/support/local-gateway.js';
import { handler } from '../../../functions/jobs/pricing-consolidation/handler.js';
import { consolidatePrices } from '../../../functions/jobs/pricing-consolidation/job.js';
import { ddb, tableName } from '../../../functions/shared/db/client.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { pricesRepo, type StagedPoint } from '../../../functions/shared/db/prices-repo.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { invoke } from '../../support/http.js';
import { useIsolatedTable } from '../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

const HOUR = 3_600_000;
/** A unique instance type per test file run: pools (and their series) belong to this file only. */
const TYPE = `zc${randomBytes(3).toString('hex')}.large`;
const POOL_A = `${TYPE}.us-east-1a`;
const POOL_B = `${TYPE}.us-east-1b`;
/** A day of its own in 2041, so the staging day partitions hold (almost) only this file's points. */
const T0 = Date.parse('2041-01-01T00:00:00.000Z') + Math.floor(Math.random() * 300) * 24 * HOUR;
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function point(poolId: string, minutes: number, price: number, o: Partial<StagedPoint> = {}): StagedPoint {
  const az = poolId.slice(poolId.lastIndexOf('.') + 1);
  return {
    pool_id: poolId,
    instance_type: TYPE,
    region: 'us-east-1',
    az,
    price,
    on_demand_price: 0.096,
    collected_at: at(minutes),
    source_role: 'PRIMARY',
    agent_id: 'agent-1',
    client_id: 'client-1',
    reporter_instance_id: 'i-primary',
    ...o,
  };
}

/** Every stored item of a series partition, keys and TTL included. */
async function rawItems(pk: string) {
  const out = await ddb.send(
    new QueryCommand({ TableName: tableName(), KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk } }),
  );
  return out.Items ?? [];
}

const seriesState = async () => ({
  a5: await rawItems(keys.consolidatedPrice(POOL_A, '').PK),
  b5: await rawItems(keys.consolidatedPrice(POOL_B, '').PK),
  ah: await rawItems(keys.canonicalPrice(POOL_A, '').PK),
  bh: await rawItems(keys.canonicalPrice(POOL_B, '').PK),
});

describe('pricing-consolidation job against DynamoDB', () => {
  it('consolidates staging into PRICE5M and PRICEH items; a second run leaves the table identical', async () => {
    await pricesRepo.stage([
      // Pool A: PRIMARY every 5 min for the first hour, a REPLICA that must lose, then a 2 h gap.
      ...Array.from({ length: 12 }, (_, i) => point(POOL_A, i * 5 + 1, 0.04 + i * 0.001)),
      ...Array.from({ length: 12 }, (_, i) =>
        point(POOL_A, i * 5 + 2, 0.5, { source_role: 'REPLICA', reporter_instance_id: 'i-replica' }),
      ),
      point(POOL_A, 3, 0.04, { collected_at: new Date(T0 + 3 * 60_000 + 500).toISOString() }), // same reporter, same bucket
      point(POOL_A, 180, 0.07),
      // Pool B: only replicas, two reporters per bucket.
      point(POOL_B, 0, 0.03, { source_role: 'REPLICA', reporter_instance_id: 'i-r1' }),
      point(POOL_B, 1, 0.05, { source_role: 'REPLICA', reporter_instance_id: 'i-r2' }),
    ]);
    const now = new Date(T0 + 4 * HOUR);
    const options = { windowStart: new Date(T0), pools: [POOL_A, POOL_B], trigger: 'manual' as const };

    const first = await consolidatePrices(now, options);
    expect(first).toMatchObject({
      window_start: at(0),
      window_end: now.toISOString(),
      points_read: 28,
      duplicates_removed: 1,
      lower_rank_discarded: 12,
      pools: 2,
    });
    // Pool A: 12 observed in hour 0, gap 55 → 180 (2 h 5 min ≤ 6 h) filled linearly, bucket 180 observed.
    expect(first.points_interpolated).toBe(24);

    const state1 = await seriesState();
    expect(state1.a5).toHaveLength(37);
    expect(state1.b5).toHaveLength(1);
    expect(state1.b5[0]).toMatchObject({ price: 0.04, source: 'REPLICA', samples: 2, is_interpolated: false });
    const a0 = state1.a5.find((i) => i.SK === at(0));
    expect(a0).toMatchObject({ price: 0.04, source: 'PRIMARY', is_interpolated: false, fill: null });
    const filled = state1.a5.find((i) => i.SK === at(120));
    expect(filled).toMatchObject({ is_interpolated: true, fill: 'linear' });
    expect(filled?.ttl).toBe(Math.floor((T0 + 120 * 60_000) / 1000) + 90 * 86_400);
    expect(state1.ah.map((h) => h.SK)).toEqual([at(0), at(60), at(120), at(180)]);
    expect(state1.ah[0]).toMatchObject({ min_price: 0.04, max_price: 0.051, last_price: 0.051, buckets: 12, interpolated_buckets: 0 });
    expect(state1.ah[0]?.avg_price).toBeCloseTo(0.0455, 10);
    expect(state1.ah[3]).toMatchObject({ buckets: 1, last_price: 0.07 });

    const second = await consolidatePrices(now, options);
    expect(second.run_id).not.toBe(first.run_id);
    const { run_id: _a, ...figures1 } = first;
    const { run_id: _b, ...figures2 } = second;
    expect(figures2).toEqual(figures1);
    expect(await seriesState()).toEqual(state1);
  });

  it('records each run; GET /api/admin/consolidation-jobs lists them with a status filter and pagination', async () => {
    const pool = `${TYPE}.us-east-1c`;
    await pricesRepo.stage([point(pool, 24 * 60 + 1, 0.02), point(pool, 24 * 60 + 31, 0.03)]);
    const now = new Date(T0 + 26 * HOUR);
    const runs: Awaited<ReturnType<typeof consolidatePrices>>[] = [];
    for (let i = 0; i < 2; i++) {
      runs.push(await consolidatePrices(new Date(now.getTime() + i * 1000), { windowStart: new Date(T0 + 24 * HOUR), pools: [pool], trigger: 'manual' }));
    }
    const list = await invoke<{ jobs: Record<string, unknown>[]; nextToken: string | null }>(
      'admin',
      'GET',
      '/api/admin/consolidation-jobs',
      { token: TEST_ADMIN_TOKEN, query: { status: 'ok', limit: 200 } },
    );
    expect(list.status).toBe(200);
    const mine = list.json.jobs.find((j) => j.id === runs[1]?.run_id);
    expect(mine).toMatchObject({
      status: 'ok',
      window_start: new Date(T0 + 24 * HOUR).toISOString(),
      window_end: new Date(now.getTime() + 1000).toISOString(),
      points_read: 2,
      duplicates_removed: 0,
      points_interpolated: 5,
      error: null,
      trigger: 'manual',
    });
    expect(typeof mine?.finished_at).toBe('string');
    expect(list.json.jobs.every((j) => j.status === 'ok')).toBe(true);

    // Pagination: newest first, one per page, the token leads to the next one.
    const page1 = await invoke<{ jobs: { id: string }[]; nextToken: string | null }>('admin', 'GET', '/api/admin/consolidation-jobs', {
      token: TEST_ADMIN_TOKEN,
      query: { limit: 1 },
    });
    expect(page1.status).toBe(200);
    expect(page1.json.jobs).toHaveLength(1);
    expect(page1.json.nextToken).toEqual(expect.any(String));
    const page2 = await invoke<{ jobs: { id: string }[] }>('admin', 'GET', '/api/admin/consolidation-jobs', {
      token: TEST_ADMIN_TOKEN,
      query: { limit: 1, nextToken: page1.json.nextToken as string },
    });
    expect(page2.status).toBe(200);
    expect(page2.json.jobs[0]?.id).not.toBe(page1.json.jobs[0]?.id);

    const none = await invoke<{ jobs: unknown[] }>('admin', 'GET', '/api/admin/consolidation-jobs', {
      token: TEST_ADMIN_TOKEN,
      query: { status: 'no-such-status' },
    });
    expect(none.json.jobs).toEqual([]);
    const bad = await invoke<{ error: { code: string } }>('admin', 'GET', '/api/admin/consolidation-jobs', {
      token: TEST_ADMIN_TOKEN,
      query: { status: 'ok', nextToken: 'not-a-token' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('INVALID_NEXT_TOKEN');
  });

  it('runs on demand through the job Lambda (leased, recorded) with an explicit window', async () => {
    const pool = `${TYPE}.us-east-1f`;
    await pricesRepo.stage([point(pool, 96 * 60 + 2, 0.02), point(pool, 96 * 60 + 22, 0.04)]);
    const out = (await handler(
      { trigger: 'manual', window_start: at(96 * 60), window_end: at(97 * 60) },
      createLambdaContext('spot-optimizer-job-pricing-consolidation'),
    )) as { status: string; summary: Record<string, unknown> };
    expect(out.status).toBe('ok');
    expect(out.summary).toMatchObject({ trigger: 'manual', window_start: at(96 * 60), window_end: at(97 * 60), points_interpolated: 3 });
    const series = await pricesRepo.listConsolidated(pool, at(96 * 60), at(97 * 60));
    expect(series.map((b) => b.price)).toEqual([0.02, 0.025, 0.03, 0.035, 0.04]);
  });

  it('staging a batch that names one key twice writes it once (BatchWriteItem would reject the batch)', async () => {
    const pool = `${TYPE}.us-east-1e`;
    await pricesRepo.stage([point(pool, 72 * 60, 0.02), point(pool, 72 * 60, 0.025)]);
    const items = await rawItems(keys.stagedPrice(pool, '', '').PK);
    expect(items.map((i) => i.price)).toEqual([0.025]);
  });

  it('a failing run is recorded as failed with its error, and the error propagates', async () => {
    const pool = `${TYPE}.us-east-1d`;
    await pricesRepo.stage([point(pool, 48 * 60 + 1, 0.02)]);
    // A DynamoDB write failure in the middle of the run (after the run record exists).
    const spy = vi.spyOn(pricesRepo, 'putCanonical').mockRejectedValueOnce(new Error('simulated write failure'));
    try {
      await expect(
        consolidatePrices(new Date(T0 + 50 * HOUR), { windowStart: new Date(T0 + 48 * HOUR), pools: [pool], trigger: 'manual' }),
      ).rejects.toThrow('simulated write failure');
    } finally {
      spy.mockRestore();
    }
    const failed = await invoke<{ jobs: { status: string; error: string | null; window_start: string }[] }>(
      'admin',
      'GET',
      '/api/admin/consolidation-jobs',
      { token: TEST_ADMIN_TOKEN, query: { status: 'failed', limit: 200 } },
    );
    expect(failed.status).toBe(200);
    expect(failed.json.jobs).toContainEqual(
      expect.objectContaining({ status: 'failed', error: 'simulated write failure', window_start: new Date(T0 + 48 * HOUR).toISOString() }),
    );
  });
});

/**
 * The LOCAL market price source (`npm start`, the demo, the benchmarks): the real spot price
 * history shipped in bin/data/ (DescribeSpotPriceHistory records of us-east-1 in April 2021 and
 * sa-east-1 in May 2020, see bin/data/README.md), replayed time-shifted to now, and the on-demand
 * prices beside it. It implements the same port as EC2 in AWS (functions/shared/market/), so the
 * market-prices job, the backfill and everything downstream run unchanged on a living market.
 *
 * The clock: the UTC midnight four days before the source was created (where the demo starts its
 * replay) is day 7 of each file's month; time runs on from there and wraps around the month, so
 * the market keeps moving however long the server runs.
 */
import { fileURLToPath } from 'node:url';
import { poolIdOf } from '../../functions/shared/domain/ids.js';
import { groupByPool, readOnDemandPrices, readSpotPriceFile } from '../../functions/shared/domain/price-history.js';
import type { MarketPriceSource, SpotPriceChange, SpotPriceQuery } from '../../functions/shared/market/market-prices.js';

const DATA = fileURLToPath(new URL('../data/', import.meta.url));
const DAY = 86_400_000;
/** The files: each region's month (records outside it are the carry-in rows, read as history). */
const FILES = [
  { region: 'us-east-1', file: 'spot-prices-us-east-1-2021-04.jsonl.gz', month: ['2021-04-01T00:00:00Z', '2021-05-01T00:00:00Z'] },
  { region: 'sa-east-1', file: 'spot-prices-sa-east-1-2020-05.jsonl.gz', month: ['2020-05-01T00:00:00Z', '2020-06-01T00:00:00Z'] },
] as const;
/** The anchor (4 days before start, at midnight) is this far into each month. */
const ANCHOR_INTO_MONTH = 7 * DAY;
/** The demo replays this many days before the day it starts. */
export const REPLAY_DAYS_BEFORE = 4;

interface Pool {
  instanceType: string;
  az: string;
  /** In-month changes, data time (epoch ms) ascending. */
  times: number[];
  prices: number[];
}

interface RegionData {
  monthStart: number;
  monthMs: number;
  pools: Map<string, Pool>;
  onDemand: Record<string, number>;
}

export interface ReplayMarket extends MarketPriceSource {
  /** Real time at which the replay's clock reads day 7 of each month (the demo starts here). */
  readonly anchor: number;
  /** The replayed spot price of a pool at real time `t` (undefined: no such pool in the data). */
  priceAt(poolId: string, t: number): number | undefined;
  /** The on-demand price of a type in a region, from bin/data/ondemand-prices.json. */
  onDemand(region: string, instanceType: string): number | undefined;
  /** The pools (`<type>.<az>`) the data has for a type in a region. */
  poolsOf(region: string, instanceType: string): string[];
}

/** The last index with `xs[i] <= x`, or -1. */
function floorIndex(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export async function createReplayMarket(options: { now?: number } = {}): Promise<ReplayMarket> {
  const now = options.now ?? Date.now();
  const anchor = Date.parse(`${new Date(now - REPLAY_DAYS_BEFORE * DAY).toISOString().slice(0, 10)}T00:00:00Z`);
  const onDemandFile = await readOnDemandPrices(`${DATA}ondemand-prices.json`);
  const regions = new Map<string, RegionData>();
  for (const f of FILES) {
    const monthStart = Date.parse(f.month[0]);
    const monthEnd = Date.parse(f.month[1]);
    const pools = new Map<string, Pool>();
    for (const [id, history] of groupByPool(await readSpotPriceFile(`${DATA}${f.file}`))) {
      const times: number[] = [];
      const prices: number[] = [];
      history.times.forEach((t, i) => {
        if (t >= monthStart && t < monthEnd) {
          times.push(t);
          prices.push(history.prices[i] as number);
        }
      });
      if (times.length > 0) pools.set(id, { instanceType: history.instanceType, az: history.az, times, prices });
    }
    regions.set(f.region, { monthStart, monthMs: monthEnd - monthStart, pools, onDemand: onDemandFile[f.region] ?? {} });
  }

  /** Real time at which cycle `k` of a region's month begins (the month restarts every monthMs). */
  const cycleStart = (r: RegionData, k: number) => anchor - ANCHOR_INTO_MONTH + k * r.monthMs;
  const cycleOf = (r: RegionData, t: number) => Math.floor((t - (anchor - ANCHOR_INTO_MONTH)) / r.monthMs);

  /** A pool's changes as real times in cycles k0..k1, ascending. */
  function changes(r: RegionData, pool: Pool, k0: number, k1: number): { at: number; price: number }[] {
    const out: { at: number; price: number }[] = [];
    for (let k = k0; k <= k1; k++) {
      const base = cycleStart(r, k) - r.monthStart;
      pool.times.forEach((t, i) => out.push({ at: base + t, price: pool.prices[i] as number }));
    }
    return out;
  }

  const regionOf = (region: string) => regions.get(region);

  return {
    name: 'replay',
    anchor,

    priceAt(poolId, t) {
      for (const r of regions.values()) {
        const pool = r.pools.get(poolId);
        if (!pool) continue;
        const k = cycleOf(r, t);
        const all = changes(r, pool, k - 1, k);
        const i = floorIndex(all.map((c) => c.at), t);
        return i >= 0 ? all[i]?.price : undefined;
      }
      return undefined;
    },

    onDemand(region, instanceType) {
      return regionOf(region)?.onDemand[instanceType];
    },

    poolsOf(region, instanceType) {
      const r = regionOf(region);
      const pools = [...(r?.pools.values() ?? [])].filter((p) => p.instanceType === instanceType);
      return pools.map((p) => poolIdOf(p.instanceType, p.az)).sort();
    },

    async spotPriceHistory(query: SpotPriceQuery, onPage: (changes: SpotPriceChange[]) => Promise<void>) {
      const r = regionOf(query.region);
      if (!r) return { pages: 0, records: 0 };
      const start = query.start.getTime();
      const end = query.end.getTime();
      const types = new Set(query.instanceTypes);
      const page: SpotPriceChange[] = [];
      for (const pool of r.pools.values()) {
        if (!types.has(pool.instanceType) || (query.az && pool.az !== query.az)) continue;
        const all = changes(r, pool, cycleOf(r, start) - 1, cycleOf(r, end));
        // DescribeSpotPriceHistory's rule: the change in force at StartTime, then every change up to EndTime.
        const first = Math.max(0, floorIndex(all.map((c) => c.at), start));
        for (const c of all.slice(first)) {
          if (c.at > end) break;
          page.push({ instance_type: pool.instanceType, az: pool.az, price: c.price, at: c.at });
        }
      }
      page.sort((a, b) => a.at - b.at);
      if (page.length > 0) await onPage(page);
      return { pages: page.length > 0 ? 1 : 0, records: page.length };
    },

    async onDemandPrices(region, instanceTypes) {
      const od = regionOf(region)?.onDemand ?? {};
      return new Map(instanceTypes.filter((t) => od[t] !== undefined).map((t) => [t, od[t] as number]));
    },
  };
}

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alwaysCheapest, alwaysOnDemand, legacyRules } from '../../../../functions/shared/domain/baseline-strategies.js';
import { type BacktestReport, buildWorkloads, crossingsAbove, engineStrategy, type ReplayWindow, replayWindow, runBacktest, type SimulationOptions, simulateWorkload, standardStrategies, type Workload } from '../../../../functions/shared/domain/backtest.js';
import type { Strategy } from '../../../../functions/shared/domain/strategy.js';
import { createDefaultEngine } from '../../../../functions/shared/domain/decision-engine.js';
import { groupByPool, type PoolHistory, PriceFileError, readOnDemandPrices, readSpotPriceFile, regionOfAz } from '../../../../functions/shared/domain/price-history.js';

const H = 3_600_000;
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const dataDir =
  process.env['SPOT_DATA_DIR'] ?? fileURLToPath(new URL('../../../../bin/data/', import.meta.url));
const ondemandFile = join(dataDir, 'ondemand-prices.json');

function history(az: string, rows: [hours: number, price: number][], type = 'x1.large'): PoolHistory {
  return {
    poolId: `${type}.us-east-1${az}`,
    instanceType: type,
    az: `us-east-1${az}`,
    region: 'us-east-1',
    times: Float64Array.from(rows.map(([h]) => h * H)),
    prices: Float64Array.from(rows.map(([, p]) => p)),
  };
}

function workload(pools: PoolHistory[], onDemandPrice = 1): Workload {
  return { region: 'us-east-1', instanceType: 'x1.large', onDemandPrice, pools };
}

const TEN_HOURS: ReplayWindow = { start: 0, end: 10 * H };
/** Decisions at price changes only, 5 min overlap, 60 s downtime. */
const EXACT: Partial<SimulationOptions> = {
  decisionIntervalMinutes: 0,
  overlapSeconds: 300,
  downtimeSeconds: 60,
  recordSwitches: true,
};

/** Stays wherever it starts: shows what not reacting costs. */
const neverSwitch: Strategy = { name: 'never', decide: () => null };

interface Judged {
  report: BacktestReport;
  ms: number;
  skipped: number;
}

async function backtestFile(name: string): Promise<Judged> {
  const started = performance.now();
  const pools = groupByPool(await readSpotPriceFile(join(dataDir, name)));
  const { workloads, skipped } = buildWorkloads(pools, await readOnDemandPrices(ondemandFile));
  const report = runBacktest(
    workloads,
    standardStrategies(createDefaultEngine()),
    replayWindow(pools.values()),
  );
  return { report, ms: performance.now() - started, skipped: skipped.length };
}

function byName(report: BacktestReport, name: string) {
  const s = report.strategies.find((x) => x.name === name);
  if (!s) throw new Error(`no strategy ${name}`);
  return s;
}

describe.each([
  ['spot-prices-us-east-1-2021-04.jsonl.gz', Date.UTC(2021, 3, 1), Date.UTC(2021, 4, 1), 25, 0],
  ['spot-prices-sa-east-1-2020-05.jsonl.gz', Date.UTC(2020, 4, 1), Date.UTC(2020, 5, 1), 15, 10],
])('real history %s', (file, start, end, workloads, skipped) => {
  let run: Judged;
  beforeAll(async () => {
    run = await backtestFile(file);
  });

  it('replays the calendar month, one workload per priced instance type', () => {
    expect(run.report.window).toEqual({ start, end });
    expect(run.report.workloads).toBe(workloads);
    expect(run.skipped).toBe(skipped);
    expect(run.ms).toBeLessThan(5000);
  });

  it('meets the judged thresholds with the default engine', () => {
    const def = byName(run.report, 'default');
    const cheapest = byName(run.report, 'always-cheapest');
    expect(def.savings_percent).toBeGreaterThanOrEqual(60);
    expect(def.switches_per_week).toBeLessThanOrEqual(2);
    expect(def.max_switches_per_week).toBeLessThanOrEqual(2);
    expect(def.hours_above_ondemand).toBe(0);
    expect(def.switches_per_week).toBeLessThan(cheapest.switches_per_week);
    expect(cheapest.savings_percent - def.savings_percent).toBeLessThanOrEqual(5);
  });

  it('measures always-ondemand as zero savings and the baselines consistently', () => {
    const od = byName(run.report, 'always-ondemand');
    expect(Math.abs(od.savings_percent)).toBeLessThan(1e-9);
    expect(od.switches).toBe(0);
    for (const s of run.report.strategies) {
      expect(s.cost).toBeGreaterThan(0);
      expect(s.savings_percent).toBeLessThan(100);
    }
    expect(run.report.strategies.map((s) => s.name)).toEqual([
      'default',
      'always-ondemand',
      'always-cheapest',
      'legacy-rules',
    ]);
  });
});

describe('simulateWorkload: exact accounting on step prices', () => {
  it('charges on-demand for the whole window on always-ondemand', () => {
    const r = simulateWorkload(workload([history('a', [[-1, 0.3]])]), alwaysOnDemand, TEN_HOURS, EXACT);
    expect(r.cost).toBeCloseTo(10, 12);
    expect(r.onDemandCost).toBeCloseTo(10, 12);
    expect(r.switches).toBe(0);
    expect(r.hoursOnDemand).toBeCloseTo(10, 12);
  });

  it('starts in the cheapest pool and uses the carry-in price from before the window', () => {
    const w = workload([history('a', [[-5, 0.3]]), history('b', [[-2, 0.4]])]);
    const r = simulateWorkload(w, alwaysCheapest, TEN_HOURS, EXACT);
    expect(r.cost).toBeCloseTo(3, 12);
    expect(r.switches).toBe(0);
  });

  it('charges a switch its overlap (old instance billed) and its downtime (at on-demand)', () => {
    const w = workload([
      history('a', [[-1, 0.3]]),
      history('b', [
        [-1, 0.4],
        [5, 0.2],
      ]),
    ]);
    const r = simulateWorkload(w, alwaysCheapest, TEN_HOURS, EXACT);
    expect(r.switches).toBe(1);
    expect(r.switchLog).toEqual([
      { time: 5 * H, from: 'x1.large.us-east-1a', to: 'x1.large.us-east-1b', fromPrice: 0.3, toPrice: 0.2 },
    ]);
    // 5 h × 0.3 + 5 h × 0.2 + overlap 5 min × 0.3 + downtime 60 s × 1.0
    expect(r.overlapCost).toBeCloseTo(0.3 / 12, 12);
    expect(r.downtimeCost).toBeCloseTo(1 / 60, 12);
    expect(r.cost).toBeCloseTo(1.5 + 1.0 + 0.025 + 1 / 60, 12);
  });

  it('bills the old instance at its own price even when it changes during the overlap', () => {
    const w = workload([
      history('a', [
        [-1, 0.3],
        [5 + 2 / 60, 0.6],
      ]),
      history('b', [
        [-1, 0.4],
        [5, 0.2],
      ]),
    ]);
    const r = simulateWorkload(w, alwaysCheapest, TEN_HOURS, { ...EXACT, downtimeSeconds: 0 });
    // overlap: 2 min at 0.3 + 3 min at 0.6
    expect(r.overlapCost).toBeCloseTo((0.3 * 2 + 0.6 * 3) / 60, 12);
    expect(r.cost).toBeCloseTo(1.5 + 1.0 + 0.04, 12);
  });

  it('counts hours in a pool priced above on-demand', () => {
    const w = workload([
      history('a', [
        [-1, 0.3],
        [2, 1.5],
        [5, 0.3],
      ]),
      history('b', [[-1, 0.4]]),
    ]);
    const stuck = simulateWorkload(w, neverSwitch, TEN_HOURS, EXACT);
    expect(stuck.hoursAboveOnDemand).toBeCloseTo(3, 12);
    expect(stuck.cost).toBeCloseTo(0.3 * 7 + 1.5 * 3, 12);
    const legacy = simulateWorkload(w, legacyRules(), TEN_HOURS, EXACT);
    expect(legacy.hoursAboveOnDemand).toBe(0);
  });

  it('replays the legacy rules: above 80 % → on-demand, then > 30 % saving → cheapest pool', () => {
    const w = workload([
      history('a', [
        [-1, 0.3],
        [4, 0.85],
      ]),
      history('b', [
        [-1, 0.4],
        [6, 0.39],
      ]),
    ]);
    const r = simulateWorkload(w, legacyRules(), TEN_HOURS, EXACT);
    expect(r.switchLog.map((s) => [s.time / H, s.to])).toEqual([
      [4, 'ondemand'],
      [6, 'x1.large.us-east-1b'],
    ]);
    expect(r.hoursOnDemand).toBeCloseTo(2, 12);
    // 4 h × 0.3 + 2 h × 1.0 + 4 h × 0.39 + overlaps (5 min × 0.85, 5 min × 1.0) + 2 downtimes
    expect(r.cost).toBeCloseTo(1.2 + 2 + 1.56 + (0.85 + 1) / 12 + 2 / 60, 12);
  });

  it('the default engine leaves a rising pool directly for a cheap one and never sits above on-demand', () => {
    // pool a climbs from 30 % to 120 % of on-demand over two days; pool b stays at 40 %
    const rows: [number, number][] = [[-1, 0.3]];
    for (let h = 1; h <= 48; h++) rows.push([h, 0.3 + (0.9 * h) / 48]);
    const w = workload([history('a', rows), history('b', [[-30, 0.4]])]);
    const days: ReplayWindow = { start: 0, end: 72 * H };
    const r = simulateWorkload(w, engineStrategy(createDefaultEngine()), days, {
      ...EXACT,
      decisionIntervalMinutes: 15,
    });
    expect(r.switches).toBe(1);
    expect(r.switchLog[0]?.to).toBe('x1.large.us-east-1b');
    // 0.4 is 20 % below a's price at ~0.5: a switch once that holds on 24 h means too
    expect(r.switchLog[0]?.fromPrice).toBeGreaterThan(0.5);
    expect(r.switchLog[0]?.fromPrice).toBeLessThan(0.8);
    expect(r.hoursAboveOnDemand).toBe(0);
    const cheapest = simulateWorkload(w, alwaysCheapest, days, { ...EXACT, decisionIntervalMinutes: 15 });
    expect(cheapest.switches).toBe(1);
  });

  it('goes to on-demand when every pool nears on-demand, and returns when spot is cheap again', () => {
    const w = workload([
      history('a', [
        [-1, 0.3],
        [3, 0.85],
        [40, 0.3],
      ]),
      history('b', [
        [-1, 0.4],
        [3, 0.9],
        [40, 0.35],
      ]),
    ]);
    const r = simulateWorkload(
      w,
      engineStrategy(createDefaultEngine()),
      { start: 0, end: 80 * H },
      {
        ...EXACT,
        decisionIntervalMinutes: 15,
      },
    );
    expect(r.switchLog.map((s) => s.to)).toEqual(['ondemand', 'x1.large.us-east-1a']);
    expect(r.switchLog[0]?.time).toBe(3 * H);
    // back once a's 24 h mean also saves 30 % (from on-demand at 1.0: mean ≤ 0.7)
    expect(r.switchLog[1]?.time).toBeGreaterThan(40 * H);
    expect(r.hoursAboveOnDemand).toBe(0);
  });

  it('uses no future prices (same decisions with the future cut off)', async () => {
    const pools = groupByPool(
      await readSpotPriceFile(join(dataDir, 'spot-prices-us-east-1-2021-04.jsonl.gz')),
    );
    const { workloads } = buildWorkloads(pools, await readOnDemandPrices(ondemandFile));
    const window = replayWindow(pools.values());
    const cut = window.start + 12 * 24 * H;
    const strategy = engineStrategy(createDefaultEngine({ scoring: { current_price_weight: 0 } }), {
      limits: {
        min_savings_percent: 3,
        risk_threshold: 0.3,
        max_switches_per_day: 3,
        max_switches_per_week: 10,
        min_pool_duration_hours: 2,
      },
    });
    let switches = 0;
    for (const w of workloads) {
      const truncated: Workload = {
        ...w,
        pools: w.pools.map((p) => {
          const n = p.times.findIndex((t) => t > cut);
          const k = n < 0 ? p.times.length : n;
          return { ...p, times: p.times.slice(0, k), prices: p.prices.slice(0, k) };
        }),
      };
      const full = simulateWorkload(w, strategy, { start: window.start, end: cut }, { recordSwitches: true });
      const past = simulateWorkload(
        truncated,
        strategy,
        { start: window.start, end: cut },
        { recordSwitches: true },
      );
      expect(full.switchLog).toEqual(past.switchLog);
      expect(full.cost).toBeCloseTo(past.cost, 9);
      switches += full.switches;
    }
    // the low threshold makes the engine act, so the comparison is not vacuous
    expect(switches).toBeGreaterThan(0);
  });
});

describe('crossingsAbove (interruption proxy)', () => {
  it('counts upward crossings of the ceiling inside the window', () => {
    const times = [0, 1, 2, 3, 4, 5];
    const prices = [0.5, 1.2, 0.9, 1.1, 1.3, 0.2];
    expect(crossingsAbove(times, prices, 1, -1, 10)).toBe(2);
    expect(crossingsAbove(times, prices, 1, 1, 10)).toBe(1);
    expect(crossingsAbove(times, prices, 1, -1, 2)).toBe(1);
  });
});

describe('price files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'backtest-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const lines = [
    '{"instanceType":"m5.large","availabilityZone":"us-east-1b","productDescription":"Linux/UNIX","spotPrice":0.04,"timestamp":"2021-04-01T02:00:00Z"}',
    '{"instanceType":"m5.large","availabilityZone":"us-east-1a","productDescription":"Linux/UNIX","spotPrice":0.0384,"timestamp":"2021-04-01T01:09:30Z"}',
    '{"instanceType":"m5.large","availabilityZone":"us-east-1a","productDescription":"Windows","spotPrice":0.1,"timestamp":"2021-04-01T01:09:30Z"}',
    '{"instanceType":"m5.large","availabilityZone":"us-east-1a","productDescription":"Linux/UNIX","spotPrice":0.037,"timestamp":"2021-03-31T23:00:00Z"}',
  ];

  it('reads gzip and plain JSON Lines alike and groups rows per pool, sorted by time', async () => {
    const gz = join(dir, 'p.jsonl.gz');
    const plain = join(dir, 'p.jsonl');
    await writeFile(gz, gzipSync(`${lines.join('\n')}\n`));
    await writeFile(plain, `${lines.join('\n')}\n\n`);
    const a = await readSpotPriceFile(gz);
    const b = await readSpotPriceFile(plain);
    expect(a).toEqual(b);
    expect(a).toHaveLength(4);
    const pools = groupByPool(a);
    expect([...pools.keys()]).toEqual(['m5.large.us-east-1a', 'm5.large.us-east-1b']);
    const p = pools.get('m5.large.us-east-1a');
    expect(Array.from(p?.prices ?? [])).toEqual([0.037, 0.0384]);
    expect(p?.region).toBe('us-east-1');
  });

  it('reports the line of a malformed row', async () => {
    const bad = join(dir, 'bad.jsonl');
    await writeFile(bad, `${lines[0]}\n{"instanceType":"m5.large"}\n`);
    await expect(readSpotPriceFile(bad)).rejects.toThrow(PriceFileError);
    await expect(readSpotPriceFile(bad)).rejects.toThrow(/bad\.jsonl:2/);
  });

  it('derives the region of an AZ', () => {
    expect(regionOfAz('us-east-1a')).toBe('us-east-1');
    expect(regionOfAz('sa-east-1c')).toBe('sa-east-1');
    expect(regionOfAz('us-west-2-lax-1a')).toBe('us-west-2');
    expect(regionOfAz('us-gov-west-1a')).toBe('us-gov-west-1');
  });
});

describe('CLI', () => {
  const execFileAsync = promisify(execFile);
  // tsx is resolved from the repository, wherever vitest was started.
  const run = (file: string, args: string[]) => execFileAsync(file, args, { cwd: repoRoot });
  const cli = ['--import', 'tsx', join(repoRoot, 'bin/backtest.ts')];

  it('prints exactly one JSON object on stdout with --json', async () => {
    const { stdout, stderr } = await run(process.execPath, [
      ...cli,
      join(dataDir, 'spot-prices-sa-east-1-2020-05.jsonl.gz'),
      '--ondemand',
      ondemandFile,
      '--json',
    ]);
    const parsed = JSON.parse(stdout) as { strategies: Record<string, unknown>[] };
    expect(Object.keys(parsed)).toEqual(['strategies']);
    expect(parsed.strategies.map((s) => s['name'])).toEqual([
      'default',
      'always-ondemand',
      'always-cheapest',
      'legacy-rules',
    ]);
    for (const s of parsed.strategies) {
      expect(Object.keys(s).sort()).toEqual([
        'hours_above_ondemand',
        'name',
        'savings_percent',
        'switches_per_week',
      ]);
    }
    expect(stderr).toContain('[15/15]');
    expect(stderr).toContain('Skipping sa-east-1 r5.large');
  }, 30_000);

  it('exits non-zero with a clear message on a missing file', async () => {
    await expect(
      run(process.execPath, [...cli, join(dataDir, 'no-such-file.jsonl.gz')]),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('price file not found'),
    });
  }, 30_000);
});

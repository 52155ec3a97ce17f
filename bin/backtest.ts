/**
 * Backtest CLI: replays a month of spot price history, one workload per instance type, under the
 * default decision engine and three baselines.
 *
 *   npm run backtest -- <price file> [--ondemand FILE] [--engine-params FILE] [--json] [--detail]
 *
 * Progress goes to stderr; the table (or, with --json, exactly one JSON object) to stdout.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BacktestReport,
  buildWorkloads,
  replayWindow,
  runBacktest,
  type SimulationOptions,
  standardStrategies,
  type WorkloadResult,
} from '../functions/shared/domain/backtest.js';
import {
  createDefaultEngine,
  type EngineParameters,
  engineParametersSchema,
} from '../functions/shared/domain/decision-engine.js';
import {
  groupByPool,
  readOnDemandPrices,
  readSpotPriceFile,
} from '../functions/shared/domain/price-history.js';
import { parseFlags, runCli, UsageError } from './support/cli.js';

const USAGE = `Usage: npm run backtest -- <price file> [options]

  <price file>           gzip (or plain) JSON Lines spot price history, e.g. bin/data/spot-prices-us-east-1-2021-04.jsonl.gz
  --ondemand FILE        on-demand prices (default: bin/data/ondemand-prices.json)
  --engine-params FILE   engine parameter set (JSON, validated like an upload; default: built-in defaults)
  --json                 print one JSON object {"strategies": [...]} on stdout instead of the table
  --detail               also print per-instance-type figures
  --interval MINUTES     decision cadence besides price changes (default 15; 0 = price changes only)
  --overlap SECONDS      old and new instance both billed after a switch (default 300)
  --downtime SECONDS     downtime per switch, charged at the on-demand price (default 60)
  -h, --help             this text`;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const defaultOnDemand = resolve(repoRoot, 'bin/data/ondemand-prices.json');

function numberOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name} must be a non-negative number`);
  return n;
}

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`${what} not found: ${path}`);
    throw new UsageError(`${what} is not valid JSON: ${path}`);
  }
}

function pad(s: string, width: number, right = false): string {
  return right ? s.padStart(width) : s.padEnd(width);
}

function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i] ?? 0, i > 0)).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function iso(t: number): string {
  return new Date(t).toISOString().replace('.000Z', 'Z');
}

function render(report: BacktestReport, file: string, detail: boolean): string {
  const { window } = report;
  const days = (window.end - window.start) / 86_400_000;
  const out: string[] = [];
  out.push(
    `Backtest of ${basename(file)}: ${iso(window.start)} to ${iso(window.end)} (${days.toFixed(1)} days)`,
  );
  out.push(`${report.workloads} workloads (one per instance type)`);
  if (report.skipped.length > 0) {
    out.push(
      `Skipped ${report.skipped.length} instance types (no on-demand price): ${report.skipped.map((s) => s.instanceType).join(', ')}`,
    );
  }
  out.push('');
  out.push(
    table(
      ['strategy', 'savings vs on-demand %', 'switches/week', 'max switches/week', 'hours above on-demand'],
      report.strategies.map((s) => [
        s.name,
        fixed(s.savings_percent, 2),
        fixed(s.switches_per_week, 2),
        fixed(s.max_switches_per_week, 2),
        fixed(s.hours_above_ondemand, 2),
      ]),
    ),
  );
  if (detail) {
    const weeks = days / 7;
    const names = report.strategies.map((s) => s.name);
    const byType = new Map<string, WorkloadResult[]>();
    for (const d of report.details) {
      const list = byType.get(d.instanceType) ?? [];
      list.push(d);
      byType.set(d.instanceType, list);
    }
    out.push('');
    out.push('Per instance type: savings % / switches per week / hours above on-demand');
    out.push(
      table(
        ['instance type', 'on-demand $/h', ...names],
        [...byType.entries()].map(([type, list]) => [
          type,
          (list[0]?.onDemandPrice ?? 0).toString(),
          ...names.map((n) => {
            const r = list.find((x) => x.strategy === n);
            if (!r) return '-';
            const savings = (1 - r.cost / r.onDemandCost) * 100;
            return `${fixed(savings, 1)} / ${fixed(r.switches / weeks, 2)} / ${fixed(r.hoursAboveOnDemand, 1)}`;
          }),
        ]),
      ),
    );
  }
  return out.join('\n');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  const r = Math.round(x * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

/** Fixed-point text without "-0.00" for values that round to zero. */
function fixed(x: number, digits: number): string {
  return round(x, digits).toFixed(digits);
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      'ondemand': { type: 'string' },
      'engine-params': { type: 'string' },
      'json': { type: 'boolean', default: false },
      'detail': { type: 'boolean', default: false },
      'interval': { type: 'string' },
      'overlap': { type: 'string' },
      'downtime': { type: 'string' },
      'help': { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('expected exactly one price file');
  const started = performance.now();

  const sim: Partial<SimulationOptions> = {};
  const interval = numberOption(values.interval, '--interval');
  const overlap = numberOption(values.overlap, '--overlap');
  const downtime = numberOption(values.downtime, '--downtime');
  if (interval !== undefined) sim.decisionIntervalMinutes = interval;
  if (overlap !== undefined) sim.overlapSeconds = overlap;
  if (downtime !== undefined) sim.downtimeSeconds = downtime;

  let engineParams: EngineParameters | undefined;
  if (values['engine-params']) {
    const raw = await readJson(values['engine-params'], 'engine parameter file');
    const parsed = engineParametersSchema.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new UsageError(`invalid engine parameters in ${values['engine-params']}: ${issues}`);
    }
    engineParams = parsed.data;
  }

  const ondemandPath = values.ondemand ?? defaultOnDemand;
  let rows: Awaited<ReturnType<typeof readSpotPriceFile>>;
  try {
    rows = await readSpotPriceFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(`price file not found: ${file}`);
    throw err;
  }
  let onDemand: Awaited<ReturnType<typeof readOnDemandPrices>>;
  try {
    onDemand = await readOnDemandPrices(ondemandPath);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UsageError(`on-demand price file not found: ${ondemandPath}`);
    throw err;
  }

  const pools = groupByPool(rows);
  if (pools.size === 0) throw new UsageError(`no Linux/UNIX price rows in ${file}`);
  const window = replayWindow(pools.values());
  const { workloads, skipped } = buildWorkloads(pools, onDemand);
  process.stderr.write(
    `Read ${rows.length} rows, ${pools.size} pools from ${basename(file)}; replaying ${iso(window.start)} to ${iso(window.end)}\n`,
  );
  for (const s of skipped) process.stderr.write(`Skipping ${s.region} ${s.instanceType}: ${s.reason}\n`);
  if (workloads.length === 0)
    throw new UsageError('no instance type in the price file has an on-demand price');

  const engine = createDefaultEngine(engineParams);
  const report = runBacktest(workloads, standardStrategies(engine), window, sim, (p) => {
    const summary = p.results.map((r) => `${r.strategy} ${r.switches} sw`).join(', ');
    process.stderr.write(`[${p.index + 1}/${p.total}] ${p.workload.instanceType}: ${summary}\n`);
  });
  report.skipped = skipped;
  const elapsed = performance.now() - started;

  if (values.json) {
    const json = {
      strategies: report.strategies.map((s) => ({
        name: s.name,
        savings_percent: round(s.savings_percent, 3),
        switches_per_week: round(s.switches_per_week, 3),
        hours_above_ondemand: round(s.hours_above_ondemand, 3),
      })),
    };
    process.stdout.write(`${JSON.stringify(json)}\n`);
  } else {
    process.stdout.write(`${render(report, file, values.detail)}\n`);
  }
  process.stderr.write(`Done in ${(elapsed / 1000).toFixed(2)} s\n`);
  return 0;
}

runCli('backtest', USAGE, main);

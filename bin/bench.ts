/**
 * `npm run bench`: the project's benchmarks, as a script (not a test). Starts one DynamoDB Local,
 * runs every benchmark module in bin/bench/, prints progress on stderr and the figures on stdout
 * (a table per benchmark; `--json` prints one JSON object instead). `--only name,name` selects.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { startBenchEnvironment } from './bench/bench-env.js';
import { argsOrUsage } from './support/cli.js';

interface BenchModule {
  run(adminToken: string): Promise<Record<string, unknown>>;
}

/** Every benchmark, in the order they run (capacity first: it patches the clock while it runs). */
export const BENCHES = ['capacity', 'heartbeat', 'bundles', 'interruption', 'consolidation', 'decisions', 'console'] as const;

const USAGE = `usage: npm run bench -- [--only ${BENCHES.join(',')}] [--json] [--help]

  --only a,b   run only these benchmarks (default: all)
  --json       print one JSON object with every result instead of tables
  --help       this text

Environment: BENCH_CAPACITY_AGENTS (capacity, default 8), BENCH_HEARTBEATS, BENCH_CONCURRENCY,
BENCH_INTERRUPTIONS, BENCH_INTERRUPTION_DUPLICATES (see each module in bin/bench/).`;

/** Parses the command line; throws with a message naming the problem (unknown flag or name). */
export function parseBenchArgs(argv: string[]): { help: boolean; json: boolean; only: (typeof BENCHES)[number][] } {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const names = values.only === undefined ? [...BENCHES] : values.only.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(BENCHES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${BENCHES.join(', ')}`);
  if (names.length === 0) throw new Error('--only needs at least one benchmark name');
  return { help: values.help, json: values.json, only: BENCHES.filter((b) => names.includes(b)) };
}

function printTable(name: string, result: Record<string, unknown>): void {
  process.stdout.write(`\n== ${name} ==\n`);
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null)) {
      const rows = value as Record<string, unknown>[];
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const cell = (v: unknown) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v ?? ''));
      const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
      process.stdout.write(`${key}:\n  ${cols.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}\n`);
      for (const r of rows) {
        process.stdout.write(`  ${cols.map((c, i) => cell(r[c]).padEnd(widths[i] as number)).join('  ')}\n`);
      }
    } else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      process.stdout.write(`${key}:\n`);
      for (const [k, v] of Object.entries(value)) {
        process.stdout.write(`  ${k.padEnd(44)} ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
      }
    } else {
      process.stdout.write(`${key.padEnd(32)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
    }
  }
}

async function main(): Promise<void> {
  const args = argsOrUsage(parseBenchArgs, USAGE);
  if (!args) return;
  const env = await startBenchEnvironment();
  const results: Record<string, unknown> = {};
  try {
    for (const name of args.only) {
      const mod = (await import(`./bench/${name}.ts`)) as BenchModule;
      const started = performance.now();
      process.stderr.write(`[bench] ${name}: starting\n`);
      results[name] = await mod.run(env.adminToken);
      process.stderr.write(`[bench] ${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      if (!args.json) printTable(name, results[name] as Record<string, unknown>);
    }
  } finally {
    await env.stop();
  }
  if (args.json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

// Only as a script: the unit tests import parseBenchArgs.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}

/**
 * `npm run bench`: the project's benchmarks, as a script (not a test). Starts one DynamoDB Local,
 * runs every benchmark module in bin/bench/, prints progress on stderr and the figures on stdout
 * (a table per benchmark; `--json` prints one JSON object instead). `--only name,name` selects.
 */
import { existsSync } from 'node:fs';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { startBenchEnvironment } from './bench/bench-env.js';

interface BenchModule {
  run(adminToken: string): Promise<Record<string, unknown>>;
}

const BENCHES = ['heartbeat', 'bundles', 'interruption', 'consolidation', 'decisions', 'console'] as const;

function printTable(name: string, result: Record<string, unknown>): void {
  process.stdout.write(`\n== ${name} ==\n`);
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value) && value.every((v) => typeof v === 'object' && v !== null)) {
      const rows = value as Record<string, unknown>[];
      const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
      const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
      process.stdout.write(`${key}:\n  ${cols.map((c, i) => c.padEnd(widths[i] as number)).join('  ')}\n`);
      for (const r of rows) {
        process.stdout.write(`  ${cols.map((c, i) => String(r[c] ?? '').padEnd(widths[i] as number)).join('  ')}\n`);
      }
    } else {
      process.stdout.write(`${key.padEnd(32)} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}\n`);
    }
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const onlyArg = args.find((a) => a.startsWith('--only'));
  const only = onlyArg ? (onlyArg.split('=')[1] ?? args[args.indexOf(onlyArg) + 1] ?? '').split(',') : undefined;
  const selected = BENCHES.filter((b) => (!only || only.includes(b)) && existsSync(new URL(`./bench/${b}.ts`, import.meta.url)));
  const env = await startBenchEnvironment();
  const results: Record<string, unknown> = {};
  try {
    for (const name of selected) {
      const mod = (await import(`./bench/${name}.ts`)) as BenchModule;
      const started = performance.now();
      process.stderr.write(`[bench] ${name}: starting\n`);
      results[name] = await mod.run(env.adminToken);
      process.stderr.write(`[bench] ${name}: done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
      if (!json) printTable(name, results[name] as Record<string, unknown>);
    }
  } finally {
    await env.stop();
  }
  if (json) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

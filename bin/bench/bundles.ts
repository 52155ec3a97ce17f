import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { JOBS } from '../../functions/jobs/job-table.js';
import { GROUPS } from '../../functions/shared/http/route.js';
import { bundleLikeTheStack } from '../support/stack-bundle.js';
import { percentile, progress, round } from './bench-env.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const SAMPLES = Number(process.env.BENCH_INIT_SAMPLES ?? 15);
/** The design's budget: every function's cold init at most 1.5× the floor's. */
export const INIT_RATIO_LIMIT = 1.5;
const FLOOR = { name: 'floor (DocumentClient + GetItem)', entry: 'bin/bench/floor-handler.ts' };

/** Every Lambda entry the stack deploys (same list the CDK constructs build). */
export function lambdaEntries(): { name: string; entry: string }[] {
  return [
    ...GROUPS.map((g) => ({ name: g, entry: `functions/${g}/handler.ts` })),
    { name: 'openapi', entry: 'functions/openapi/handler.ts' },
    { name: 'ec2-events', entry: 'functions/ec2-events/handler.ts' },
    ...JOBS.map((j) => ({ name: `job:${j.name}`, entry: `functions/jobs/${j.dir}/handler.ts` })),
  ].filter((e) => existsSync(join(ROOT, e.entry)));
}

/**
 * Bundles every function — and the floor function (bin/bench/floor-handler.ts) — with the options
 * the stack gives NodejsFunction (lib/constructs/app-function.ts FUNCTION_BUNDLING: ESM, minified,
 * SDK bundled, linked source map; target from the runtime), then measures each bundle's size and
 * cold module-init: a fresh `node` with the functions' NODE_OPTIONS importing the bundle (what a
 * Lambda cold start pays before the first invocation). Samples are interleaved across functions
 * (BENCH_INIT_SAMPLES rounds, default 15: the fastest of more samples is steadier) so machine load affects all alike. Load only ever adds
 * time, so the ratio to the floor is taken on each function's fastest sample (the median is shown
 * too); each function is reported as a multiple of the floor measured in the same run.
 */
export async function run(): Promise<Record<string, unknown>> {
  const { FUNCTION_NODE_OPTIONS, NODE_RUNTIME } = await import('../../lib/constructs/app-function.js');
  const target = `node${/nodejs(\d+)/.exec(NODE_RUNTIME.name)?.[1] ?? '20'}`;
  const out = mkdtempSync(join(tmpdir(), 'so-bundles-'));
  try {
    const entries = [FLOOR, ...lambdaEntries()];
    const built: { name: string; outfile: string; bytes: number; gzipped: number; mapBytes: number }[] = [];
    for (const { name, entry } of entries) {
      progress(`bundles: building ${name}`);
      const outfile = join(out, `${name.replace(/[^a-z0-9-]/gi, '_')}.mjs`);
      await bundleLikeTheStack(join(ROOT, entry), outfile);
      built.push({
        name,
        outfile,
        bytes: statSync(outfile).size,
        gzipped: gzipSync(readFileSync(outfile)).length,
        mapBytes: existsSync(`${outfile}.map`) ? statSync(`${outfile}.map`).size : 0,
      });
    }
    // Two runs of the same bundles: as Lambda runs them (AWS_EXECUTION_ENV set, so every function —
    // and the floor, built the same way — loads the Powertools Tracer and instruments its clients),
    // and without the Tracer (as the local runtime and the tests load them).
    const modes = { lambda: { AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' }, local: {} } as const;
    const samples = new Map<string, number[]>(built.flatMap((b) => Object.keys(modes).map((m) => [`${m}|${b.name}`, []])));
    for (let round = 0; round < SAMPLES; round++) {
      progress(`bundles: cold init, sample ${round + 1} of ${SAMPLES}`);
      for (const b of built) {
        for (const [mode, env] of Object.entries(modes)) samples.get(`${mode}|${b.name}`)?.push(coldInitMs(b.outfile, FUNCTION_NODE_OPTIONS, env));
      }
    }
    const fastest = (mode: string, name: string) => Math.min(...(samples.get(`${mode}|${name}`) ?? []));
    const median = (mode: string, name: string) => percentile(samples.get(`${mode}|${name}`) ?? [], 50);
    const floorKb = (built[0]?.bytes ?? 0) / 1024;
    const ratio = (mode: string, name: string) => fastest(mode, name) / fastest(mode, FLOOR.name);
    const rows = built.map((b) => {
      const over = b.name !== FLOOR.name && ratio('lambda', b.name) > INIT_RATIO_LIMIT;
      return {
        'function': b.name,
        'bundle_kb': round(b.bytes / 1024, 1),
        'gzip_kb': round(b.gzipped / 1024, 1),
        'map_kb': round(b.mapBytes / 1024, 1),
        'size_vs_floor': round(b.bytes / 1024 / floorKb, 2),
        'lambda: init_ms min/median': `${round(fastest('lambda', b.name), 1)}/${round(median('lambda', b.name), 1)}`,
        'lambda: vs_floor': round(ratio('lambda', b.name), 2),
        'no tracer: init_ms min/median': `${round(fastest('local', b.name), 1)}/${round(median('local', b.name), 1)}`,
        'no tracer: vs_floor': round(ratio('local', b.name), 2),
        [`over ${INIT_RATIO_LIMIT}×`]: over ? 'YES' : '',
      };
    });
    const count = (mode: string) => built.filter((b) => b.name !== FLOOR.name && ratio(mode, b.name) > INIT_RATIO_LIMIT).length;
    return {
      method: `esbuild ${target} ESM minified + linked source map (the stack's options); fresh node ${process.version} with NODE_OPTIONS=${FUNCTION_NODE_OPTIONS} importing the bundle, as Lambda runs it (AWS_EXECUTION_ENV set: the Powertools Tracer loads, in the floor too) and without the Tracer; ${SAMPLES} interleaved samples each, ratio on the fastest`,
      floor_cold_init_ms: `${round(fastest('lambda', FLOOR.name), 1)} (as in Lambda), ${round(fastest('local', FLOOR.name), 1)} (without the Tracer)`,
      functions_over_limit: `${count('lambda')} of ${built.length - 1} over ${INIT_RATIO_LIMIT}× the floor as in Lambda; ${count('local')} without the Tracer`,
      functions: rows,
    };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** One cold module-init: a fresh node process importing the bundle, timed from inside. */
function coldInitMs(outfile: string, nodeOptions: string, env: Record<string, string> = {}): number {
  const ms = execFileSync(
    process.execPath,
    [...nodeOptions.split(' ').filter(Boolean), '--input-type=module', '-e', `const t=performance.now();await import(${JSON.stringify(`file://${outfile}`)});process.stdout.write(String(performance.now()-t));`],
    {
      env: {
        ...process.env,
        TABLE_NAME: 'bench',
        ADMIN_TOKEN: 'bench',
        AWS_REGION: 'us-east-1',
        POWERTOOLS_METRICS_DISABLED: 'true',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...env,
      },
      encoding: 'utf8',
    },
  );
  return Number(ms);
}

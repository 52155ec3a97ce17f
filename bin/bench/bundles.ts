import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { JOBS } from '../../functions/jobs/job-table.js';
import { GROUPS } from '../../functions/shared/http/route.js';
import { progress, round } from './bench-env.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Every Lambda entry the stack deploys (same list the CDK constructs build). */
export function lambdaEntries(): { name: string; entry: string }[] {
  return [
    ...GROUPS.map((g) => ({ name: g, entry: `functions/${g}/handler.ts` })),
    { name: 'openapi', entry: 'functions/openapi/handler.ts' },
    { name: 'ec2-events', entry: 'functions/ec2-events/handler.ts' },
    ...JOBS.map((j) => ({ name: `job:${j.name}`, entry: `functions/jobs/${j.dir}/handler.ts` })),
  ].filter((e) => existsSync(join(ROOT, e.entry)));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/**
 * Bundles every function the way AppFunction does (esbuild, ESM, minified, SDK bundled) and measures
 * the bundle size and the cold module-init time: a fresh `node` process importing the bundle
 * (what a Lambda cold start pays before the first invocation), median of 3.
 */
export async function run(): Promise<Record<string, unknown>> {
  const out = mkdtempSync(join(tmpdir(), 'so-bundles-'));
  const rows: Record<string, unknown>[] = [];
  try {
    for (const { name, entry } of lambdaEntries()) {
      progress(`bundles: ${name}`);
      const outfile = join(out, `${name.replace(/[^a-z0-9-]/gi, '_')}.mjs`);
      await build({
        entryPoints: [join(ROOT, entry)],
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'esm',
        minify: true,
        mainFields: ['module', 'main'],
        banner: {
          js: "import { createRequire as __appCreateRequire } from 'node:module';const require = __appCreateRequire(import.meta.url);",
        },
        logLevel: 'silent',
      });
      const bytes = statSync(outfile).size;
      const gzipped = gzipSync(readFileSync(outfile)).length;
      const samples: number[] = [];
      for (let i = 0; i < 3; i++) {
        const ms = execFileSync(
          process.execPath,
          ['--input-type=module', '-e', `const t=performance.now();await import(${JSON.stringify(`file://${outfile}`)});process.stdout.write(String(performance.now()-t));`],
          {
            env: {
              ...process.env,
              TABLE_NAME: 'bench',
              ADMIN_TOKEN: 'bench',
              AWS_REGION: 'us-east-1',
              POWERTOOLS_METRICS_DISABLED: 'true',
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
            },
            encoding: 'utf8',
          },
        );
        samples.push(Number(ms));
      }
      rows.push({
        function: name,
        bundle_kb: round(bytes / 1024, 1),
        gzip_kb: round(gzipped / 1024, 1),
        cold_init_ms: round(median(samples), 1),
      });
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  return { functions: rows };
}

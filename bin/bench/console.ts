/**
 * The web console's first load: what a browser downloads on a first visit to /console besides the
 * HTML shell — every JS and CSS file the shell names — built exactly as deployed (minified, by the
 * stack's esbuild) and measured gzipped (and brotli, which the console Lambda also serves).
 * Budget: 150 KB gzipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../../functions/console/build.js';

export const FIRST_LOAD_BUDGET_BYTES = 150 * 1024;

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-console-'));
  try {
    const built = await buildConsole(dir);
    const kb = (n: number) => Number((n / 1024).toFixed(1));
    return {
      first_load_gzip_kb: kb(built.firstLoadGzipBytes),
      first_load_brotli_kb: kb(built.files.reduce((a, f) => a + f.brBytes, 0)),
      budget_gzip_kb: kb(FIRST_LOAD_BUDGET_BYTES),
      within_budget: built.firstLoadGzipBytes <= FIRST_LOAD_BUDGET_BYTES,
      build_ms: built.buildMs,
      files: built.files.map((f) => ({ file: f.name, raw_kb: kb(f.bytes), gzip_kb: kb(f.gzipBytes), brotli_kb: kb(f.brBytes) })),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

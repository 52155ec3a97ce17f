/**
 * A job's `lazyBundles` (job-table): built the way the stack's after-bundling hook builds them
 * (bin/bundle-lazy.ts, the stack's esbuild options), the importer's bundle leaves the module out and
 * loads it at run time from beside index.mjs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../functions/jobs/job-table.js';
import { lazyBundleName } from '../../lib/constructs/app-function.js';

const dir = mkdtempSync(join(tmpdir(), 'lazy-bundles-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bundle = (entry: string, outfile: string) =>
  execFileSync(process.execPath, ['--import', 'tsx', 'bin/bundle-lazy.ts', entry, join(dir, outfile)], { stdio: 'pipe' });

describe('lazy bundles', () => {
  it('every declared module exists', () => {
    const modules = JOBS.flatMap((j) => j.lazyBundles ?? []);
    expect(modules.length).toBeGreaterThan(0);
    for (const m of modules) expect(existsSync(join('functions', m)), m).toBe(true);
  });

  it('the Secrets Manager and SQS SDKs stay out of the bundles that import them on first use', () => {
    bundle('functions/shared/http/auth.ts', 'auth.mjs');
    bundle('functions/admin/dlq.ts', 'dlq.mjs');
    // The services' own names (signing name, JSON target prefix), which only their SDKs carry.
    expect(readFileSync(join(dir, 'auth.mjs'), 'utf8').includes('"secretsmanager"')).toBe(false);
    expect(readFileSync(join(dir, 'dlq.mjs'), 'utf8').includes('AmazonSQS')).toBe(false);
    for (const m of ['shared/http/secrets-sdk.ts', 'admin/sqs-sdk.ts']) expect(existsSync(join('functions', m)), m).toBe(true);
  }, 60_000);

  it('the AWS market source: out of the bundle, loaded from beside it when first used', () => {
    bundle('functions/shared/market/market-prices.ts', 'index.mjs');
    bundle('functions/shared/market/aws-market-source.ts', lazyBundleName('shared/market/aws-market-source.ts'));
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8').includes('DescribeSpotPriceHistory')).toBe(false);
    const script = `const m = await import(${JSON.stringify(join(dir, 'index.mjs'))}); const s = await m.awsMarketSource({}); console.log(typeof s.spotPriceHistory);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { ...process.env, AWS_REGION: 'us-east-1' } });
    expect(out.trim()).toBe('function');
  }, 60_000);
});

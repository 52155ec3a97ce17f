import { build } from 'esbuild';
import { FUNCTION_BUNDLING, NODE_RUNTIME } from '../../lib/constructs/app-function.js';

/**
 * Bundles `entry` into `outfile` exactly as the stack's NodejsFunction does (FUNCTION_BUNDLING, the
 * runtime's Node target): the lazy modules of a function (bin/bundle-lazy.ts) and the bundles bench
 * build with it, so what they ship or measure is what Lambda runs.
 */
export async function bundleLikeTheStack(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: `node${/nodejs(\d+)/.exec(NODE_RUNTIME.name)?.[1] ?? '20'}`,
    format: FUNCTION_BUNDLING.format === 'esm' ? 'esm' : 'cjs',
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    banner: { js: FUNCTION_BUNDLING.banner },
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    sourcesContent: FUNCTION_BUNDLING.sourcesContent,
    logLevel: 'warning',
  });
}

/**
 * Bundles one module of a function on its own, with the stack's bundling options, beside the
 * function's index.mjs (run by the CDK after-bundling hook of a job's `lazyBundles`):
 *
 *   node --import tsx bin/bundle-lazy.ts <entry.ts> <outfile.mjs>
 */
import { build } from 'esbuild';
import { FUNCTION_BUNDLING, NODE_RUNTIME } from '../lib/constructs/app-function.js';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  process.stderr.write('Usage: node --import tsx bin/bundle-lazy.ts <entry.ts> <outfile.mjs>\n');
  process.exit(2);
}
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

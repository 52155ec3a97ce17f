/**
 * Bundles one module of a function on its own, with the stack's bundling options, beside the
 * function's index.mjs (run by the CDK after-bundling hook of AppFunction `lazyModules`):
 *
 *   node --import tsx bin/bundle-lazy.ts <entry.ts> <outfile.mjs>
 */
import { bundleLikeTheStack } from './support/stack-bundle.js';

const [entry, outfile] = process.argv.slice(2);
if (!entry || !outfile) {
  process.stderr.write('Usage: node --import tsx bin/bundle-lazy.ts <entry.ts> <outfile.mjs>\n');
  process.exit(2);
}
await bundleLikeTheStack(entry, outfile);

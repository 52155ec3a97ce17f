/**
 * `tsx bin/build-console.ts <dir>`: builds the web console into <dir> (functions/console/build.ts).
 * The CDK console function runs it after bundling, so the assets ship inside that Lambda's package.
 */
import { buildConsole } from '../functions/console/build.js';

const dir = process.argv[2];
if (!dir || process.argv.length > 3 || dir.startsWith('-')) {
  console.error('usage: tsx bin/build-console.ts <output dir>');
  process.exit(2);
}
const built = await buildConsole(dir);
console.log(
  `console built in ${built.buildMs} ms: ${built.files.map((f) => `${f.name} ${f.bytes} B (${f.gzipBytes} B gzipped)`).join(', ')}`,
);

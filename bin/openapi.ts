/**
 * `npm run openapi -- [--out FILE]`: writes the OpenAPI 3.1 document generated from the route table
 * (the same one GET /openapi.json serves) — for client generators and for `npm run lint:openapi`.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ROUTE_TABLE } from '../functions/route-table.js';
import { buildOpenApiDocument } from '../functions/shared/http/openapi.js';
import { parseFlags, runCli } from './support/cli.js';

const USAGE = `Usage: npm run openapi -- [--out FILE]

  --out FILE   write the document to FILE (default: stdout)
  -h, --help   this text`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const version = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  const text = `${JSON.stringify(buildOpenApiDocument(ROUTE_TABLE, { version }), null, 2)}\n`;
  if (!values.out) {
    process.stdout.write(text);
    return 0;
  }
  mkdirSync(dirname(values.out), { recursive: true });
  writeFileSync(values.out, text);
  console.error(`wrote ${values.out}`);
  return 0;
}

runCli('openapi', USAGE, main);

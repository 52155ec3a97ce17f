/**
 * `npm run event -- FILE`: replays one EventBridge event (JSON, exactly as EventBridge hands it
 * to a Lambda) against the running local runtime's EC2 events consumer. Exit code 1 on failure.
 *
 *   npm run event -- test/fixtures/spot-interruption-warning.json
 */
import { readFile } from 'node:fs/promises';
import { numberFlag, parseFlags, runCli, UsageError } from './support/cli.js';

const USAGE = `Usage: npm run event -- FILE.json [--port N] [--admin-token T]

  FILE.json          one EventBridge event, as EventBridge hands it to a Lambda (see test/fixtures/)
  --port N           port of the local runtime (default: PORT, else 3000)
  --admin-token T    the local runtime's admin token (default: ADMIN_TOKEN); /local routes require it
  -h, --help         this text`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: { 'port': { type: 'string' }, 'admin-token': { type: 'string' }, 'help': { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new UsageError('expected exactly one event file');
  const port = numberFlag(values.port, '--port', { integer: true, min: 1, max: 65_535 }) ?? (Number(process.env.PORT) || 3000);
  const adminToken = values['admin-token'] ?? process.env.ADMIN_TOKEN;
  if (!adminToken) throw new UsageError('the admin token is needed: set ADMIN_TOKEN or pass --admin-token (npm start prints it)');
  let body: string;
  try {
    body = await readFile(file, 'utf8');
    JSON.parse(body); // fail here with the file name, not with a 400 from the server
  } catch (err) {
    throw new UsageError(`cannot use ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const url = `http://127.0.0.1:${port}/local/eventbridge`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'authorization': `Bearer ${adminToken}` }, body });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    console.error(
      cause === 'ECONNREFUSED'
        ? `nothing listens on ${url}: start the local runtime first (npm start)`
        : `POST ${url} failed: ${err instanceof Error ? err.message : String(err)}`,
    );
    return 1;
  }
  const text = await res.text();
  let pretty = text;
  try {
    pretty = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // not JSON: print as is
  }
  console.log(`${res.status} ${res.statusText}`);
  console.log(pretty);
  return res.ok ? 0 : 1;
}

runCli('send-event', USAGE, main);

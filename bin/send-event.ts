/**
 * `npm run event -- FILE`: replays one EventBridge event (JSON, exactly as EventBridge hands it
 * to a Lambda) against the running local runtime's EC2 events consumer. Exit code 1 on failure.
 *
 *   npm run event -- test/fixtures/spot-interruption-warning.json
 */
import { readFile } from 'node:fs/promises';

async function main(): Promise<number> {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npm run event -- FILE.json   (PORT selects the local runtime, default 3000)');
    return 2;
  }
  let body: string;
  try {
    body = await readFile(file, 'utf8');
    JSON.parse(body); // fail here with the file name, not with a 400 from the server
  } catch (err) {
    console.error(`cannot use ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return 2;
  }
  const url = `http://127.0.0.1:${process.env.PORT || 3000}/local/eventbridge`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
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

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  },
);

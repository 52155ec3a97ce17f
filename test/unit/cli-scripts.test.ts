import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every script this team owns parses its flags with node:util parseArgs (bin/support/cli.ts):
 * `--help` prints the usage and exits 0; an unknown flag prints the error and the usage, exit 2.
 */
const root = resolve(fileURLToPath(import.meta.url), '../../..');
const tsx = resolve(root, 'node_modules/.bin/tsx');

function run(script: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(tsx, [script, ...args], { cwd: root, env: { ...process.env, TABLE_NAME: '' }, timeout: 30_000 }, (err, stdout, stderr) => {
      done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const SCRIPTS = ['bin/send-event.ts', 'bin/backtest.ts', 'bin/backfill-prices.ts', 'bin/dlq.ts', 'bin/migrate.ts'];

describe('script flags', () => {
  it.each(SCRIPTS)('%s: --help prints the usage (exit 0); an unknown flag is an error with the usage (exit 2)', async (script) => {
    const [help, unknown] = await Promise.all([run(script, ['--help']), run(script, ['--no-such-flag'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: /);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--no-such-flag'");
    expect(unknown.stderr).toContain('Usage: ');
  });

  it('dlq: a missing or unknown subcommand and a missing queue are usage errors', async () => {
    const [none, bogus, noQueue] = await Promise.all([
      run('bin/dlq.ts', []),
      run('bin/dlq.ts', ['purge']),
      run('bin/dlq.ts', ['list', '--outputs', 'no-such-outputs.json']),
    ]);
    for (const r of [none, bogus, noQueue]) expect(r.code).toBe(2);
    expect(bogus.stderr).toContain('expected list or redrive, got purge');
    expect(noQueue.stderr).toContain('outputs file not found: no-such-outputs.json');
  });

  it('backfill: bad numbers are usage errors', async () => {
    const r = await run('bin/backfill-prices.ts', ['--days', '500']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--days must be an integer from 1 to 90');
  });
});

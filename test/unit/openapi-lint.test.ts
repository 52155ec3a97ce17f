import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../functions/route-table.js';
import { buildOpenApiDocument } from '../../functions/shared/http/openapi.js';

/**
 * The generated document passes a third-party linter (Redocly CLI, recommended rules,
 * redocly.yaml) with no error, names its shared schemas for client generators, and says where the
 * API is served. CI runs the same lint as `npm run lint:openapi`.
 */
const root = resolve(fileURLToPath(import.meta.url), '../../..');
const doc = buildOpenApiDocument(ROUTE_TABLE);

describe('OpenAPI document for client generators and linters', () => {
  it('names the shared entities and their enums as component schemas, referenced by the operations', () => {
    const names = Object.keys(doc.components.schemas);
    expect(names).toEqual(expect.arrayContaining(['Agent', 'Command', 'Instance', 'Replica', 'Notification', 'AgentStatus', 'CommandStatus', 'Error']));
    const text = JSON.stringify(doc.paths);
    for (const name of ['Agent', 'Command', 'Instance', 'Replica', 'PendingCommand']) {
      expect(text, name).toContain(`"#/components/schemas/${name}"`);
    }
    // No numbered leftovers: every component has a stable name.
    expect(names.filter((n) => /_\d+$/.test(n))).toEqual([]);
  });

  it('declares servers (a deployed stack and the local runtime)', () => {
    expect(doc.servers.map((s) => s.url)).toEqual(['https://{apiId}.execute-api.{region}.amazonaws.com', 'http://127.0.0.1:3000']);
  });

  it('passes `redocly lint` (recommended rules) with no error', async () => {
    mkdirSync(resolve(root, '.tmp'), { recursive: true });
    // The path .redocly.lint-ignore.yaml names (the known, accepted ambiguous paths).
    writeFileSync(resolve(root, '.tmp/openapi.json'), `${JSON.stringify(doc, null, 2)}\n`);
    const result = await new Promise<{ code: number; out: string }>((done) => {
      execFile(
        process.execPath,
        [resolve(root, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', '.tmp/openapi.json', '--format=summary'],
        { cwd: root, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', CI: 'true' }, timeout: 60_000 },
        (err, stdout, stderr) => done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${stdout}\n${stderr}` }),
      );
    });
    expect(result.out).toContain('Your API description is valid');
    expect(result.out).not.toMatch(/\berror\b/);
    expect(result.code).toBe(0);
  });
});

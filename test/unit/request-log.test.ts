import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureOutput, jsonLines } from '../support/capture-output.js';

/**
 * A refused request is logged once, as one structured line with its status, code and reason.
 * `message` is the Powertools logger's own key: passing it as an extra key made Powertools drop it
 * and print a warning on every refused request.
 */
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('request log', () => {
  it('a refused request logs its reason, with no reserved-key warning', async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'admin');
    vi.resetModules();
    const { invoke } = await import('../support/http.js');
    let res: Awaited<ReturnType<typeof invoke>> | undefined;
    const lines = await captureOutput(async () => {
      res = await invoke('admin', 'GET', '/api/admin/clients');
    });

    expect(res?.status).toBe(401);
    const logs = jsonLines(lines);
    const refused = logs.filter((l) => l.message === 'request refused');
    expect(refused).toEqual([expect.objectContaining({ level: 'INFO', status: 401, code: 'UNAUTHORIZED', reason: expect.any(String) })]);
    expect(lines.join('\n')).not.toMatch(/reserved/i);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * A refused request is logged once, as one structured line with its status, code and reason.
 * `message` is the Powertools logger's own key: passing it as an extra key made Powertools drop it
 * and print a warning on every refused request.
 */
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('request log', () => {
  it('a refused request logs its reason, with no reserved-key warning', async () => {
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'admin');
    vi.resetModules();
    const { invoke } = await import('../support/http.js');
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(...String(chunk).split('\n').filter((l) => l.trim() !== ''));
      return true;
    });
    const res = await invoke('admin', 'GET', '/api/admin/clients');
    vi.restoreAllMocks();

    expect(res.status).toBe(401);
    const logs = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const refused = logs.filter((l) => l.message === 'request refused');
    expect(refused).toEqual([expect.objectContaining({ level: 'INFO', status: 401, code: 'UNAUTHORIZED', reason: expect.any(String) })]);
    expect(lines.join('\n')).not.toMatch(/reserved/i);
  });
});

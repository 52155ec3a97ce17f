import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, type ConsoleBuild } from '../../functions/console/build.js';
import { api, startLocalApi } from '../support/http.js';

/** The console as the local gateway serves it (the same handler the console Lambda runs), and CORS. */
let dir: string;
let built: ConsoleBuild;
let server: Awaited<ReturnType<typeof startLocalApi>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'console-assets-'));
  built = await buildConsole(dir);
  process.env.CONSOLE_ASSETS_DIR = dir;
  server = await startLocalApi({ corsOrigins: ['https://app.example.com'] });
}, 60_000);

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('console serving', () => {
  it('stays within the first-load budget (150 KB gzipped JS + CSS)', () => {
    expect(built.files.map((f) => f.name.split('.').pop()).sort()).toEqual(['css', 'js']);
    expect(built.firstLoadGzipBytes).toBeLessThan(150 * 1024);
  });

  it('GET / : JSON banner for API clients, a redirect to /console for browsers', async () => {
    const http = api(server.baseUrl);
    const json = await http.get('/', { headers: { accept: '*/*' } });
    expect(json.status).toBe(200);
    expect(json.json).toMatchObject({ name: 'spot-optimizer', api_base: '/api' });
    expect(json.headers.vary).toBe('Accept');
    const browser = await fetch(`${server.baseUrl}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, redirect: 'manual' });
    expect(browser.status).toBe(303);
    expect(browser.headers.get('location')).toBe('/console');
  });

  it('serves the shell no-cache with a CSP and an ETag (304 on revalidation)', async () => {
    const res = await fetch(`${server.baseUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'.*script-src 'self'.*connect-src 'self'.*frame-ancestors 'none'/);
    const html = await res.text();
    for (const f of built.files) expect(html).toContain(`/console/assets/${f.name}`);
    const again = await fetch(`${server.baseUrl}/console`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
  });

  it('serves hashed assets immutable, pre-compressed by Accept-Encoding; unknown names are 404', async () => {
    const js = built.files.find((f) => f.name.endsWith('.js'));
    const raw = await import('node:http').then(
      (http) =>
        new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
          http.get(`${server.baseUrl}/console/assets/${js?.name}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
          }).on('error', reject);
        }),
    );
    expect(raw.status).toBe(200);
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(raw.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(gunzipSync(raw.body).length).toBe(js?.bytes);
    expect((await fetch(`${server.baseUrl}/console/assets/app-NOPE0000.js`)).status).toBe(404);
    expect((await fetch(`${server.baseUrl}/console/assets/..%2Fmanifest.json`)).status).toBe(400);
  });

  it('answers CORS preflights for configured origins only, and marks their responses', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.baseUrl}/api/client/validate`, { method: 'OPTIONS', headers: { 'origin': origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    const ok = await preflight('https://app.example.com');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(ok.headers.get('access-control-allow-headers')).toContain('authorization');
    const other = await preflight('https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const res = await fetch(`${server.baseUrl}/health`, { headers: { origin: 'https://app.example.com' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });
});

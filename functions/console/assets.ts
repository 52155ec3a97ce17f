/**
 * The built console (functions/console/build.ts) as the console Lambda serves it: read once per
 * container from `console-assets/` beside the bundle (CDK copies it there after bundling) or from
 * CONSOLE_ASSETS_DIR (the local runtime builds into a temporary folder at start).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What build.ts writes as manifest.json. */
export interface ConsoleManifest {
  /** The HTML shell's file and its strong ETag. */
  html: { file: string; etag: string };
  /** Hashed asset name → its content type and the pre-compressed encodings written beside it. */
  assets: Record<string, { type: string; encodings: Array<'br' | 'gzip'> }>;
}

export interface LoadedConsole {
  html: string;
  etag: string;
  assets: Map<string, { type: string; identity: Buffer; br?: Buffer; gzip?: Buffer }>;
}

export const MANIFEST_FILE = 'manifest.json';

/**
 * The Content-Security-Policy of the shell: scripts, styles and API calls from this origin only;
 * nothing inline, no framing, no plugins. Charts are canvas; the only `data:` is the blank favicon.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const assetsDir = (): string =>
  process.env.CONSOLE_ASSETS_DIR || fileURLToPath(new URL('./console-assets/', import.meta.url));

let cached: LoadedConsole | undefined;

/** The console from `dir`, or undefined when it was not built there. Cached per container. */
export function loadConsole(dir = assetsDir()): LoadedConsole | undefined {
  if (cached) return cached;
  const manifestPath = join(dir, MANIFEST_FILE);
  if (!existsSync(manifestPath)) return undefined;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as ConsoleManifest;
  const assets: LoadedConsole['assets'] = new Map();
  for (const [name, meta] of Object.entries(manifest.assets)) {
    assets.set(name, {
      type: meta.type,
      identity: readFileSync(join(dir, name)),
      ...Object.fromEntries(meta.encodings.map((e) => [e, readFileSync(join(dir, `${name}.${e === 'gzip' ? 'gz' : 'br'}`))])),
    });
  }
  cached = { html: readFileSync(join(dir, manifest.html.file), 'utf8'), etag: manifest.html.etag, assets };
  return cached;
}

/** The best encoding the client accepts among those built (br, then gzip, else none). */
export function pickEncoding(acceptEncoding: string | undefined, available: ReadonlyArray<'br' | 'gzip'>): 'br' | 'gzip' | undefined {
  const accepted = new Map<string, number>();
  for (const part of (acceptEncoding ?? '').toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const ok = (e: string) => (accepted.get(e) ?? accepted.get('*') ?? 0) > 0;
  return (['br', 'gzip'] as const).find((e) => available.includes(e) && ok(e));
}

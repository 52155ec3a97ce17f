/**
 * Builds the web console with the esbuild the stack bundles its Lambdas with: the TypeScript/JSX
 * app under functions/console/app/ → one content-hashed JS and one CSS file, each also written
 * pre-compressed (br, gzip), the HTML shell naming them, and manifest.json (assets.ts reads it).
 * Used by the CDK console function (after bundling), the local runtime (at start) and the bench.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { type ConsoleManifest, MANIFEST_FILE } from './assets.js';

const ENTRY = fileURLToPath(new URL('./app/main.tsx', import.meta.url));
/** Where the shell's asset URLs point (the console group's asset route). */
export const ASSETS_PATH = '/console/assets/';

export interface BuiltFile {
  name: string;
  type: string;
  bytes: number;
  gzipBytes: number;
  brBytes: number;
}

export interface ConsoleBuild {
  dir: string;
  files: BuiltFile[];
  /** What a first visit downloads besides the shell: every JS and CSS file, gzipped. */
  firstLoadGzipBytes: number;
  buildMs: number;
}

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};

const shell = (js: string[], css: string[]) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light">
<title>Spot Optimizer console</title>
<link rel="icon" href="data:,">
${css.map((f) => `<link rel="stylesheet" href="${ASSETS_PATH}${f}">`).join('\n')}
${js.map((f) => `<script type="module" src="${ASSETS_PATH}${f}"></script>`).join('\n')}
</head>
<body>
<noscript>The Spot Optimizer console needs JavaScript.</noscript>
<div id="app"></div>
</body>
</html>
`;

/** Builds the console into `dir` (emptied first). */
export async function buildConsole(dir: string, options: { minify?: boolean } = {}): Promise<ConsoleBuild> {
  const started = performance.now();
  const result = await build({
    entryPoints: { app: ENTRY },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: options.minify ?? true,
    legalComments: 'none',
    outdir: dir,
    entryNames: '[name]-[hash]',
    write: false,
    logLevel: 'silent',
  });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const manifest: ConsoleManifest = { html: { file: 'index.html', etag: '' }, assets: {} };
  const files: BuiltFile[] = [];
  for (const out of result.outputFiles) {
    const name = out.path.slice(out.path.lastIndexOf('/') + 1);
    const ext = name.slice(name.lastIndexOf('.') + 1);
    const type = TYPES[ext];
    if (!type) continue;
    const gz = gzipSync(out.contents, { level: 9 });
    const br = brotliCompressSync(out.contents, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
    writeFileSync(join(dir, name), out.contents);
    writeFileSync(join(dir, `${name}.gz`), gz);
    writeFileSync(join(dir, `${name}.br`), br);
    manifest.assets[name] = { type, encodings: ['br', 'gzip'] };
    files.push({ name, type, bytes: out.contents.length, gzipBytes: gz.length, brBytes: br.length });
  }
  const names = Object.keys(manifest.assets).sort();
  const html = shell(
    names.filter((n) => n.endsWith('.js')),
    names.filter((n) => n.endsWith('.css')),
  );
  writeFileSync(join(dir, manifest.html.file), html);
  manifest.html.etag = `"${createHash('sha256').update(html).digest('base64url').slice(0, 22)}"`;
  writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2));
  return {
    dir,
    files,
    firstLoadGzipBytes: files.reduce((a, f) => a + f.gzipBytes, 0),
    buildMs: Math.round(performance.now() - started),
  };
}

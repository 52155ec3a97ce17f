import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NODE_RUNTIME } from '../../lib/constructs/app-function.js';

/**
 * The Node versions the README promises: developed and tested on Node 20 (CI runs it), deployed on
 * Lambda's Node 24. What keeps a Node-22-only change from landing unnoticed is pinned here:
 *  - `.npmrc` engine-strict: `npm ci` in CI fails on a dependency whose `engines` drops Node 20
 *    (vitest 5, middy 7, a future AWS SDK…), instead of only warning;
 *  - @types/node 20 and the ES2022 lib: code calling an API Node 20 lacks (fs.glob,
 *    Promise.withResolvers, Object.groupBy, Array.fromAsync…) fails `npm run typecheck`;
 *  - the tests themselves run on Node 20 in CI.
 */
const root = resolve(fileURLToPath(import.meta.url), '../../..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };

describe('Node version support', () => {
  it('declares Node 20.19+ and runs on it', () => {
    expect(pkg.engines.node).toBe('>=20.19');
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    expect(major > 20 || (major === 20 && minor >= 19)).toBe(true);
  });

  it('installs strictly: a dependency that drops Node 20 fails npm ci', () => {
    expect(read('.npmrc')).toMatch(/^engine-strict=true$/m);
  });

  it('typechecks against Node 20 APIs and the ES2022 library only', () => {
    expect(pkg.devDependencies['@types/node']).toMatch(/^20\./);
    const tsconfig = JSON.parse(read('tsconfig.json')) as { compilerOptions: { lib: string[]; target: string } };
    expect(tsconfig.compilerOptions.lib).toEqual(['ES2022']);
    expect(tsconfig.compilerOptions.target).toBe('ES2022');
  });

  it('deploys on the Node 24 Lambda runtime', () => {
    expect(NODE_RUNTIME.name).toBe('nodejs24.x');
  });
});

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * The shape of the code (README "Architecture"), checked on the real TypeScript import graph of
 * functions/, bin/ and lib/ (static, type-only and dynamic imports, re-exports):
 *  - no import cycle anywhere;
 *  - an endpoint group or job (`functions/<group>/`, `functions/jobs/<job>/`) imports only its own
 *    folder, `functions/shared/` and the two declared tables (route-table.ts, jobs/job-table.ts);
 *    `functions/shared/` imports only `functions/shared/`;
 *  - only `functions/shared/db/` names a DynamoDB expression or the SDK.
 * ESLint (eslint.config.js) enforces the same boundaries while editing; this proves them on the
 * whole graph.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const REGISTRIES = new Set(['functions/route-table.ts', 'functions/jobs/job-table.ts']);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = `${dir}/${name}`;
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** The repository files a file imports (relative specifiers resolved; packages are not nodes). */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => {
      const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).replaceAll('\\', '/');
      const ts = target.replace(/\.js$/, '.ts');
      if (!existsSync(join(ROOT, ts))) throw new Error(`${file}: cannot resolve ${spec}`);
      return ts;
    });
}

type Graph = Map<string, string[]>;

function buildGraph(): Graph {
  const files = ['functions', 'bin', 'lib'].flatMap(sourceFiles);
  return new Map(files.map((f) => [f, importsOf(f)]));
}

/** Strongly connected components with more than one node (or a self-import): the import cycles. */
export function findCycles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop() as string;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

/** `admin`, `jobs/zombie-cleanup`, `shared`, `registry`, or null outside functions/. */
function areaOf(file: string): string | null {
  if (REGISTRIES.has(file)) return 'registry';
  const parts = file.split('/');
  if (parts[0] !== 'functions' || parts.length < 3) return null;
  return parts[1] === 'jobs' ? `jobs/${parts[2]}` : (parts[1] as string);
}

/** Imports that cross a group boundary: `from → to`. */
export function boundaryViolations(graph: Graph): string[] {
  const out: string[] = [];
  for (const [from, targets] of graph) {
    const area = areaOf(from);
    if (area === null || area === 'registry') continue;
    for (const to of targets) {
      const target = areaOf(to);
      const allowed = area === 'shared' ? target === 'shared' : target === area || target === 'shared' || target === 'registry';
      if (!allowed) out.push(`${from} → ${to}`);
    }
  }
  return out;
}

/** What only the db layer may name: the SDK packages and DynamoDB expression syntax. */
const DYNAMODB =
  /@aws-sdk\/(client|lib|util)-dynamodb|\b((Key)?Condition|Update|Filter|Projection)Expression\b|\bExpressionAttribute(Names|Values)\b|\b(attribute_(not_)?exists|attribute_type|begins_with|if_not_exists|list_append)\s*\(/;

export function dynamoDbOutsideDb(files: string[], read: (file: string) => string): string[] {
  return files
    .filter((f) => f.startsWith('functions/') && !f.startsWith('functions/shared/db/'))
    .flatMap((f) =>
      read(f)
        .split('\n')
        .flatMap((line, i) => (DYNAMODB.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
    );
}

describe('architecture', () => {
  const graph = buildGraph();

  it('reads the whole import graph', () => {
    expect(graph.size).toBeGreaterThan(150);
    expect(graph.get('functions/route-table.ts')).toContain('functions/admin/routes.ts');
  });

  it('has no import cycle', () => {
    expect(findCycles(graph)).toEqual([]);
  });

  it('has no import from one endpoint group or job into another, and shared/ imports no group', () => {
    expect(boundaryViolations(graph)).toEqual([]);
  });

  it('names DynamoDB (SDK, expressions) only in functions/shared/db/', () => {
    expect(dynamoDbOutsideDb([...graph.keys()], (f) => readFileSync(join(ROOT, f), 'utf8'))).toEqual([]);
  });

  it('the checks catch what they look for', () => {
    const bad: Graph = new Map([
      ['functions/admin/a.ts', ['functions/agents/b.ts', 'functions/shared/c.ts']],
      ['functions/agents/b.ts', ['functions/admin/a.ts']],
      ['functions/shared/c.ts', ['functions/emergency/d.ts']],
      ['functions/jobs/x/job.ts', ['functions/jobs/y/job.ts', 'functions/jobs/job-table.ts']],
      ['functions/jobs/y/job.ts', []],
    ]);
    expect(findCycles(bad)).toEqual([['functions/admin/a.ts', 'functions/agents/b.ts']]);
    expect(boundaryViolations(bad)).toEqual([
      'functions/admin/a.ts → functions/agents/b.ts',
      'functions/agents/b.ts → functions/admin/a.ts',
      'functions/shared/c.ts → functions/emergency/d.ts',
      'functions/jobs/x/job.ts → functions/jobs/y/job.ts',
    ]);
    const source: Record<string, string> = {
      'functions/admin/q.ts': "const q = { KeyConditionExpression: 'PK = :pk' };",
      'functions/agents/w.ts': "const w = 'attribute_not_exists(PK)';",
      'functions/shared/db/ok.ts': "const ok = 'attribute_not_exists(PK)';",
    };
    expect(dynamoDbOutsideDb(Object.keys(source), (f) => source[f] as string)).toHaveLength(2);
  });
});

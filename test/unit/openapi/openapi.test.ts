import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '../../../functions/openapi/handler.js';
import { ROUTE_TABLE } from '../../../functions/route-table.js';
import { buildOpenApiDocument } from '../../../functions/shared/http/openapi.js';
import { routeKey } from '../../../functions/shared/http/route.js';

type Json = Record<string, unknown>;
const METHODS = ['get', 'post', 'put', 'delete', 'patch', 'head', 'options'];

const doc = buildOpenApiDocument(ROUTE_TABLE);

/** Every operation of the document as `METHOD /path` → operation object. */
function operations(document: typeof doc): Map<string, Json> {
  const out = new Map<string, Json>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (METHODS.includes(method)) out.set(`${method.toUpperCase()} ${path}`, op);
    }
  }
  return out;
}

function collectRefs(value: unknown, refs: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) collectRefs(v, refs);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') refs.push(v);
      else collectRefs(v, refs);
    }
  }
  return refs;
}

function resolvePointer(root: unknown, ref: string): unknown {
  return ref
    .replace(/^#\//, '')
    .split('/')
    .reduce<unknown>(
      (node, part) => (node as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')],
      root,
    );
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as unknown as Json);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it('is checked by a validator that rejects a broken document', async () => {
    const { info: _info, ...broken } = doc;
    expect((await new Validator().validate(broken as unknown as Json)).valid).toBe(false);
  });

  it('has exactly the operations of the route table', () => {
    const ops = operations(doc);
    expect([...ops.keys()].sort()).toEqual(ROUTE_TABLE.map(routeKey).sort());
    for (const route of ROUTE_TABLE) {
      const op = ops.get(routeKey(route));
      expect(op?.operationId).toBe(route.operationId);
      expect(op?.tags).toEqual([route.group]);
    }
  });

  it('marks wire routes, aliases and security', () => {
    const ops = operations(doc);
    for (const route of ROUTE_TABLE) {
      const op = ops.get(routeKey(route)) ?? {};
      expect(op['x-agent-wire-contract'], route.operationId).toBe(route.wire ? true : undefined);
      expect(op['x-alias-of'], route.operationId).toBe(route.aliasOf);
      expect(op.security, route.operationId).toEqual(route.auth === 'none' ? [] : [{ bearerAuth: [] }]);
    }
  });

  it('declares every path parameter, every query field and the success status', () => {
    const ops = operations(doc);
    for (const route of ROUTE_TABLE) {
      const op = ops.get(routeKey(route)) ?? {};
      const params = ((op.parameters ?? []) as Json[]).filter((p) => !('$ref' in p));
      const names = (where: string) =>
        params
          .filter((p) => p.in === where)
          .map((p) => p.name)
          .sort();
      expect(names('path'), route.operationId).toEqual(
        [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort(),
      );
      expect(names('query'), route.operationId).toEqual(Object.keys(route.query?.shape ?? {}).sort());
      for (const p of params) expect(p.schema, `${route.operationId} ${String(p.name)}`).toBeTypeOf('object');
      const responses = op.responses as Json;
      expect(responses[String(route.status ?? 200)], route.operationId).toBeDefined();
      expect(responses['500'], route.operationId).toBeDefined();
      if (route.auth !== 'none') expect(responses['401'], route.operationId).toBeDefined();
      expect(Boolean(op.requestBody), route.operationId).toBe(Boolean(route.body));
    }
  });

  it('marks required query fields from the schemas (defaults make a field optional)', () => {
    const search = operations(doc).get('GET /api/admin/search');
    const params = (search?.parameters ?? []) as Json[];
    expect(params.find((p) => p.name === 'q')?.required).toBe(true);
    expect(params.find((p) => p.name === 'types')?.required).toBe(false);
    const list = operations(doc).get('GET /api/client/{cid}/instances');
    const limit = ((list?.parameters ?? []) as Json[]).find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ required: false, schema: { type: 'integer', default: 50, maximum: 200 } });
  });

  it('describes CSV and SSE bodies as text', () => {
    const ops = operations(doc);
    const csv = ops.get('GET /api/admin/export/global-stats')?.responses as Json;
    expect(Object.keys((csv['200'] as Json).content as Json)).toEqual(['text/csv']);
    const sse = ops.get('GET /api/events/stream')?.responses as Json;
    expect(Object.keys((sse['200'] as Json).content as Json).sort()).toEqual([
      'application/json',
      'text/event-stream',
    ]);
    const pending = ops.get('GET /api/agents/{aid}/pending-commands')?.responses as Json;
    expect(((pending['200'] as Json).content as Json)['application/json']).toMatchObject({
      schema: { type: 'array' },
    });
  });

  it('resolves every $ref and leaks no per-schema $schema keys', () => {
    for (const ref of collectRefs(doc)) {
      expect(ref.startsWith('#/components/'), ref).toBe(true);
      expect(resolvePointer(doc, ref), ref).toBeDefined();
    }
    expect(JSON.stringify(doc.paths)).not.toContain('"$schema"');
  });
});

describe('openapi Lambda', () => {
  it('serves the document as JSON', async () => {
    const result = await handler({
      routeKey: 'GET /openapi.json',
      requestContext: { requestId: 'r-1' },
    } as unknown as APIGatewayProxyEventV2);
    expect(result.statusCode).toBe(200);
    expect(result.headers['content-type']).toContain('application/json');
    const served = JSON.parse(result.body) as typeof doc;
    expect(served.openapi).toBe('3.1.0');
    expect(operations(served).size).toBe(ROUTE_TABLE.length);
  });

  it('is imported by nothing but the openapi Lambda (bundle size)', () => {
    const root = fileURLToPath(new URL('../../../functions', import.meta.url));
    const allowed = new Set([
      join(root, 'openapi', 'handler.ts'),
      join(root, 'shared', 'http', 'openapi.ts'),
    ]);
    const files = (readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(root, f));
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      if (!allowed.has(file))
        expect(readFileSync(file, 'utf8'), file).not.toMatch(/from '[^']*\/openapi\.js'/);
    }
  });
});

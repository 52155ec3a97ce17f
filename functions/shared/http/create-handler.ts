import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { config } from '../config.js';
import { idempotencyRepo } from '../db/idempotency-repo.js';
import { AppError, ConflictError, NotFoundError, PayloadTooLargeError, UnprocessableError, ValidationError } from '../domain/errors.js';
import { sha256Hex } from '../domain/tokens.js';
import type { Caller } from '../domain/types.js';
import { logger, MetricUnit, metrics } from '../observability.js';
import { assertClientScope, authenticate } from './auth.js';
import { errorResult, type HttpResult, jsonResult, typedError } from './responses.js';
import { type AuthClass, isReply, type Reply, type RouteDef, type RouteInput, routeKey } from './route.js';
import { openNextToken, pageBinding, sealPage } from './next-token.js';
import { parsePart } from './validation.js';

/** API.md §1.2: bodies over 256 KiB get 413. */
export const MAX_BODY_BYTES = 256 * 1024;

/**
 * What an implementation knows about its request. Routes that need no token (`auth: 'none'`,
 * API.md §1.1) have no caller; every other route has the authenticated one.
 */
export type RequestContext<A extends AuthClass = AuthClass> = {
  requestId: string;
  now: Date;
  route: RouteDef;
  /**
   * The request's idempotency scope (caller + method + path + Idempotency-Key), when it has a key.
   * A write whose answer was lost (a crash after its commit) is run again by the retry once its
   * lock expires: what it creates derives its id from this scope, so the retry finds its own effect.
   */
  idempotencyScope?: string | undefined;
} & ([A] extends ['none'] ? { caller?: undefined } : { caller: Caller });

export type Implementation<D extends RouteDef> = (input: RouteInput<D>, ctx: RequestContext<D['auth']>) => Promise<unknown>;

/**
 * One implementation per canonical route of a group (aliases reuse their canonical's): the
 * compiler rejects a group handler that leaves a route out.
 */
export type Implementations<T extends Record<string, RouteDef>> = {
  [K in keyof T as T[K] extends { aliasOf: string } ? never : K]: Implementation<T[K]>;
};

interface ParsedBody {
  raw: string;
  json: unknown;
  invalid: boolean;
}

function readBody(event: APIGatewayProxyEventV2): ParsedBody {
  const raw = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (Buffer.byteLength(raw, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError(MAX_BODY_BYTES);
  if (raw.trim() === '') return { raw: '', json: {}, invalid: false };
  try {
    return { raw, json: JSON.parse(raw), invalid: false };
  } catch {
    return { raw, json: undefined, invalid: true };
  }
}

function lowerHeaders(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(event.headers ?? {})) out[k.toLowerCase()] = v;
  return out;
}

function parseIfMatch(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const match = /^\s*(?:W\/)?"?(\d+)"?\s*$/.exec(value);
  if (!match?.[1]) {
    throw new ValidationError('If-Match must be a version number', [{ field: 'header.if-match', issue: 'invalid' }]);
  }
  return Number(match[1]);
}

/** The idempotency key of a request (API.md §1.4), or undefined. Both headers must agree. */
function idempotencyKey(headers: Record<string, string | undefined>): string | undefined {
  const key = headers['idempotency-key'];
  const alias = headers['x-request-id'];
  if (key && alias && key !== alias) {
    throw new ValidationError('Idempotency-Key and X-Request-ID differ', [
      { field: 'header.idempotency-key', issue: 'differs from X-Request-ID' },
    ]);
  }
  const chosen = key ?? alias;
  if (chosen !== undefined && (chosen.length < 1 || chosen.length > 255)) {
    throw new ValidationError('idempotency key must be 1–255 characters', [
      { field: 'header.idempotency-key', issue: 'invalid length' },
    ]);
  }
  return chosen;
}

function callerScope(caller: Caller | undefined): string {
  if (!caller) return 'anonymous';
  return caller.kind === 'admin' ? 'admin' : `client:${caller.clientId}`;
}

/** Fills a path template with the request's parameters (the idempotency scope's canonical path). */
const fillPath = (template: string, params: Record<string, string | undefined>): string =>
  template.replace(/\{(\w+)\}/g, (_, name: string) => params[name] ?? '');

/**
 * The time a request runs at: when API Gateway received it (`requestContext.timeEpoch`), the one
 * clock seam of the HTTP path. A simulation (the local runtime's `--demo` seeder) replays requests
 * "in the past" by building events with an earlier time, exactly as a replay through the gateway would.
 */
export function requestTime(event: APIGatewayProxyEventV2): Date {
  const epoch = event.requestContext?.timeEpoch;
  return typeof epoch === 'number' && Number.isFinite(epoch) && epoch > 0 ? new Date(epoch) : new Date();
}

/** A reply's `nextToken`, sealed (see next-token.ts). */
const sealReplyPage = async (out: unknown, binding: string): Promise<unknown> =>
  isReply(out) ? { ...out, body: await sealPage(out.body, binding) } : sealPage(out, binding);

function toResult(route: RouteDef, out: unknown, requestId: string): HttpResult {
  const r: Reply = isReply(out) ? out : { status: route.status ?? 200, body: out };
  const headers: Record<string, string> = { 'apigw-requestid': requestId, ...(r.headers ?? {}) };
  // Static assets (the console's bundles, pre-compressed) travel base64-encoded, as API Gateway expects.
  if (r.body instanceof Uint8Array) {
    return { statusCode: r.status, headers, body: Buffer.from(r.body).toString('base64'), isBase64Encoded: true };
  }
  if (typeof r.body === 'string') {
    return { statusCode: r.status, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers }, body: r.body };
  }
  if (config.validateResponses && r.status < 300) {
    const check = route.response.safeParse(r.body);
    if (!check.success) {
      logger.error('response does not match its schema', { operationId: route.operationId, issues: check.error.issues });
      throw new Error(`response of ${route.operationId} does not match its schema`);
    }
  }
  // Single resources carry ETag = their version (API.md §1.2).
  const version = (r.body as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && !headers.etag) headers.etag = `"${version}"`;
  return jsonResult(r.status, r.body, headers);
}

/**
 * The request pipeline of every group Lambda: route lookup → body → auth → validation → scope →
 * idempotency → implementation → response. Errors are mapped once, by the caller of this function.
 */
async function handle(
  byKey: Map<string, RouteDef>,
  impls: Record<string, Implementation<RouteDef>>,
  event: APIGatewayProxyEventV2,
  requestId: string,
): Promise<HttpResult> {
  const route = byKey.get(event.routeKey);
  if (!route) throw new NotFoundError('route');
  logger.appendKeys({ operation: route.operationId });
  const now = requestTime(event);
  const headers = lowerHeaders(event);
  // Everything that is wrong whatever the database says is refused before the first database call
  // (auth reads the token item): a malformed request gets its 4xx even while DynamoDB is down.
  const body = readBody(event);
  if (body.invalid) {
    throw new ValidationError('request body is not valid JSON', [{ field: 'body', issue: 'invalid JSON' }], 'INVALID_JSON');
  }
  const params = parsePart('path', route.params, event.pathParameters ?? {});
  const query = parsePart('query', route.query, event.queryStringParameters ?? {});
  const parsedBody = route.body ? parsePart('body', route.body, body.json) : {};
  const key = route.method === 'GET' ? undefined : idempotencyKey(headers);
  // Auth may read the raw body: register takes `client_token` from it (API.md §1.1).
  const caller = await authenticate(route, headers.authorization, body.json, now);
  assertClientScope(caller, (params as { cid?: string }).cid);
  // Page tokens: opened here (400 unless sealed by this server for this caller and listing), sealed on the way out.
  const binding = pageBinding(route, caller, params as Record<string, unknown>, query as Record<string, unknown>);
  const paged = query as { nextToken?: unknown };
  if (paged.nextToken === '') delete paged.nextToken; // `?nextToken=` asks for the first page
  if (typeof paged.nextToken === 'string') paged.nextToken = await openNextToken(paged.nextToken, binding);
  const input: RouteInput<RouteDef> = {
    params,
    query,
    body: parsedBody,
    headers,
    ifMatchVersion: parseIfMatch(headers['if-match']),
  } as RouteInput<RouteDef>;
  const impl = impls[route.aliasOf ?? route.operationId] as Implementation<RouteDef>;
  // Aliases share their canonical route's scope (API.md §3.14).
  const canonical = route.aliasOf ? [...byKey.values()].find((r) => r.operationId === route.aliasOf) : route;
  const scope =
    key === undefined
      ? undefined
      : sha256Hex([callerScope(caller), route.method, fillPath((canonical ?? route).path, event.pathParameters ?? {}), key].join('\n'));
  const ctx = { caller, requestId, now, route, idempotencyScope: scope } as RequestContext;
  const run = async () => toResult(route, await sealReplyPage(await impl(input, ctx), binding), requestId);

  if (scope === undefined) return run();

  const bodyHash = sha256Hex(body.raw);
  const existing = await idempotencyRepo.claim(scope, bodyHash, now.getTime());
  if (existing) {
    if (existing.body_hash !== bodyHash) {
      throw new UnprocessableError('IDEMPOTENCY_KEY_REUSED', 'this idempotency key was used with another body');
    }
    if (existing.status !== 'COMPLETED' || !existing.response) {
      throw new ConflictError('IDEMPOTENCY_IN_PROGRESS', 'a request with this idempotency key is still running');
    }
    metrics.addMetric('IdempotentReplay', MetricUnit.Count, 1);
    return {
      statusCode: existing.response.status,
      headers: { ...existing.response.headers, 'idempotent-replayed': 'true', 'apigw-requestid': requestId },
      body: existing.response.body,
    };
  }
  let result: HttpResult;
  try {
    result = await run();
  } catch (err) {
    // 4xx outcomes are final and replayed; 5xx are not stored, so a retry runs again.
    if (err instanceof AppError && err.status < 500) {
      result = errorResult(err, requestId);
    } else {
      await idempotencyRepo.release(scope).catch((releaseErr: unknown) =>
        logger.warn('could not release idempotency key', { error: releaseErr as Error }),
      );
      throw err;
    }
  }
  const { 'apigw-requestid': _omit, ...storedHeaders } = result.headers;
  const stored = redactSecrets(result.body);
  if (stored.redacted) storedHeaders['idempotent-redacted'] = 'token';
  // The effect has committed: a failure to store its answer must not turn it into a 5xx, which
  // would invite a retry that runs it again. The caller has its answer; the record's lock expires.
  await idempotencyRepo.complete(scope, { status: result.statusCode, body: stored.body, headers: storedHeaders }).catch((err: unknown) =>
    logger.warn('could not store the idempotent response', { error: err as Error }),
  );
  return result;
}

/**
 * Tokens are shown once and stored only as hashes — the idempotency record must not become a
 * plaintext copy. Any `token` field of a stored response is nulled; a replay says so in
 * `Idempotent-Redacted: token` (the caller regenerates the token if it lost the first answer).
 */
export function redactSecrets(body: string): { body: string; redacted: boolean } {
  if (!body.includes('"token"')) return { body, redacted: false };
  let redacted = false;
  try {
    const json = JSON.parse(body, (key, value: unknown) => {
      if (key === 'token' && typeof value === 'string') {
        redacted = true;
        return null;
      }
      return value;
    }) as unknown;
    return { body: JSON.stringify(json), redacted };
  } catch {
    return { body, redacted: false };
  }
}

/**
 * Builds a group's Lambda handler from its routes and implementations: middy with Powertools
 * logger (request id on every line) and metrics (EMF), then the pipeline, then one error mapper.
 */
export function createGroupHandler<T extends Record<string, RouteDef>>(routes: T, impls: Implementations<T>) {
  const byKey = new Map(Object.values(routes).map((r) => [routeKey(r), r]));
  const implementations = impls as unknown as Record<string, Implementation<RouteDef>>;
  // The type already demands every implementation; a cast that drops one fails at cold start, not per request.
  const missing = Object.values(routes).filter((r) => !r.aliasOf && typeof implementations[r.operationId] !== 'function');
  if (missing.length > 0) throw new Error(`no implementation for ${missing.map((r) => r.operationId).join(', ')}`);
  const core = async (event: APIGatewayProxyEventV2, context: Context): Promise<HttpResult> => {
    const requestId = event.requestContext?.requestId ?? context.awsRequestId;
    const started = performance.now();
    try {
      const result = await handle(byKey, implementations, event, requestId);
      metrics.addMetric(result.statusCode < 400 ? 'Success' : 'ClientError', MetricUnit.Count, 1);
      return result;
    } catch (err) {
      const typed = typedError(err);
      if (typed && typed.status < 500) {
        // `message` is the log line's own key in Powertools (a key of that name is dropped with a warning).
        logger.info('request refused', { status: typed.status, code: typed.code, reason: typed.message });
        metrics.addMetric('ClientError', MetricUnit.Count, 1);
      } else if (typed) {
        // The database throttled or was unreachable: the caller retries (503 + Retry-After).
        logger.warn('database unavailable', { status: typed.status, code: typed.code, error: err as Error });
        metrics.addMetric('Unavailable', MetricUnit.Count, 1);
      } else {
        logger.error('request failed', { error: err as Error });
        metrics.addMetric('ServerError', MetricUnit.Count, 1);
      }
      return errorResult(err, requestId);
    } finally {
      metrics.addMetric('Latency', MetricUnit.Milliseconds, performance.now() - started);
    }
  };
  return middy(core)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

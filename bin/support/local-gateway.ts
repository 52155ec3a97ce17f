/**
 * API Gateway HTTP API (payload 2.0) + Lambda, emulated with node:http for local runs and tests.
 * It reads the same route table as CDK, builds the events API Gateway would send, invokes the
 * group's Lambda handler in-process and applies the v2 result rules. Gateway-made errors carry
 * API Gateway's own `{"message"}` bodies, so clients see the same shapes as in AWS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, Context, EventBridgeEvent, ScheduledEvent } from 'aws-lambda';
import { JOBS, type JobDef } from '../../functions/jobs/job-table.js';
import { digestsEqual, hashToken } from '../../functions/shared/domain/tokens.js';
import { corsHeaders } from '../../functions/shared/http/cors.js';
import type { GroupName, RouteDef } from '../../functions/shared/http/route.js';
import { routeKey } from '../../functions/shared/http/route.js';

/** A group Lambda (middy-wrapped): API Gateway v2 event in, v2 result out. */
export type HttpHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<unknown>;
/** An EventBridge target (the EC2 events consumer, the scheduled jobs). */
export type EventHandler = (event: EventBridgeEvent<string, unknown>, context: Context) => Promise<unknown>;

export type RoutesByGroup = Partial<Record<GroupName, Record<string, RouteDef>>>;

/** API Gateway's payload limit for HTTP APIs. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
/** API.md §1.1: every group Lambda has a 25 s timeout (the agent gives up after 30 s). */
export const LAMBDA_TIMEOUT_MS = 25_000;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ACCOUNT = process.env.STACK_ACCOUNT ?? '123456789012';
const region = () => process.env.AWS_REGION ?? 'us-east-1';

export const groupHandlerPath = (group: GroupName): string => `functions/${group}/handler.ts`;
export const jobHandlerPath = (job: JobDef): string => `functions/jobs/${job.dir}/handler.ts`;
export const EC2_EVENTS_HANDLER_PATH = 'functions/ec2-events/handler.ts';
export const OPENAPI_HANDLER_PATH = 'functions/openapi/handler.ts';

/**
 * Imports `handler` from a function module (path relative to the repository root), on first use:
 * modules read their environment at module scope, so they load after the caller has set it.
 */
export async function loadHandler<H>(path: string): Promise<H> {
  const mod = (await import(pathToFileURL(`${ROOT}${path}`).href)) as { handler?: unknown };
  if (typeof mod.handler !== 'function') throw new Error(`${path} does not export a function named handler`);
  return mod.handler as H;
}

/**
 * ROUTES_BY_GROUP from functions/route-table.ts, imported on demand: route modules pull in the zod
 * schemas, and the caller decides when (after it has set the environment).
 */
export async function loadRoutesByGroup(): Promise<{ routesByGroup: RoutesByGroup }> {
  const table = (await import('../../functions/route-table.js')) as { ROUTES_BY_GROUP: RoutesByGroup };
  return { routesByGroup: table.ROUTES_BY_GROUP };
}

// ---------------------------------------------------------------------------------------------
// Route matching

interface CompiledRoute {
  group: GroupName;
  route: RouteDef;
  key: string;
  segments: Array<{ literal: string } | { param: string }>;
}

export interface RouteMatch {
  group: GroupName;
  route: RouteDef;
  routeKey: string;
  pathParameters: Record<string, string>;
}

/** `/` → [], `/a/b` → [a, b]. Strict: `/health/` does not match `/health`. */
const splitPath = (path: string): string[] => (path === '/' ? [] : path.split('/').slice(1));

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * Compiles the route table into a matcher. Like API Gateway, the most specific route wins: at the
 * first segment where two candidates differ, a literal beats a `{param}`. A path that exists under
 * another method is still 404 (HTTP APIs have no 405).
 */
export function createRouteMatcher(routesByGroup: RoutesByGroup) {
  const compiled: CompiledRoute[] = [];
  for (const [group, routes] of Object.entries(routesByGroup) as Array<
    [GroupName, Record<string, RouteDef>]
  >) {
    for (const route of Object.values(routes)) {
      compiled.push({
        group,
        route,
        key: routeKey(route),
        segments: splitPath(route.path).map((s) => {
          const param = /^\{(\w+)\}$/.exec(s)?.[1];
          return param ? { param } : { literal: s };
        }),
      });
    }
  }
  return (method: string, rawPath: string): RouteMatch | undefined => {
    const parts = splitPath(rawPath).map(safeDecode);
    let best: { entry: CompiledRoute; params: Record<string, string>; score: number[] } | undefined;
    for (const entry of compiled) {
      if (entry.route.method !== method || entry.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const score: number[] = [];
      const matches = entry.segments.every((segment, i) => {
        const part = parts[i] ?? '';
        if ('literal' in segment) {
          score.push(1);
          return segment.literal === part;
        }
        score.push(0);
        params[segment.param] = part;
        return part !== '';
      });
      if (matches && (!best || moreSpecific(score, best.score))) best = { entry, params, score };
    }
    return (
      best && {
        group: best.entry.group,
        route: best.entry.route,
        routeKey: best.entry.key,
        pathParameters: best.params,
      }
    );
  };
}

const moreSpecific = (a: number[], b: number[]): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0);
  return false;
};

// ---------------------------------------------------------------------------------------------
// Events and context

export interface HttpEventInput {
  method: string;
  /** The path as sent, still percent-encoded. */
  rawPath: string;
  /** Without the `?`. */
  rawQueryString?: string;
  /** Any case; repeated headers as arrays. */
  headers?: Record<string, string | string[] | number | undefined>;
  body?: Buffer | string;
  routeKey: string;
  pathParameters?: Record<string, string>;
  sourceIp?: string;
  /** e.g. `HTTP/1.1`. */
  protocol?: string;
  requestId?: string;
  now?: Date;
}

/** API Gateway's request ids look like `JKJaXmPLvHcESHA=`. */
export const newApiGatewayRequestId = (): string => randomBytes(11).toString('base64');

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');
/** `requestContext.time`: `12/Mar/2020:19:03:58 +0000`. */
const clfTime = (d: Date): string =>
  `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;

/** Query strings are form-decoded (`+` is a space), repeated keys joined with commas. */
export function parseQueryString(raw: string): Record<string, string> | undefined {
  if (raw === '') return undefined;
  const out: Record<string, string> = {};
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = safeDecode((eq < 0 ? pair : pair.slice(0, eq)).replaceAll('+', ' '));
    const value = eq < 0 ? '' : safeDecode(pair.slice(eq + 1).replaceAll('+', ' '));
    out[name] = name in out ? `${out[name]},${value}` : value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const TEXT_TYPE = /^(text\/|application\/([\w.+-]+\+)?(json|xml|javascript|x-ndjson|graphql|yaml|x-yaml)\b)/i;

/**
 * The body API Gateway hands to Lambda: as is when it is UTF-8 text, otherwise base64 with
 * `isBase64Encoded` (declared non-text types, or bytes that are not valid UTF-8).
 */
function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (!contentType || TEXT_TYPE.test(contentType)) {
    try {
      return { body: new TextDecoder('utf-8', { fatal: true }).decode(body), isBase64Encoded: false };
    } catch {
      // not UTF-8: fall through to base64
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

/**
 * Builds the `APIGatewayProxyEventV2` that API Gateway sends for a request: lower-cased headers
 * (repeats joined with `,`), cookies moved to `cookies`, the headers API Gateway adds,
 * form-decoded query parameters, URL-decoded path parameters and the request context.
 */
export function buildHttpEvent(input: HttpEventInput): APIGatewayProxyEventV2 {
  const now = input.now ?? new Date();
  const sourceIp = input.sourceIp ?? '127.0.0.1';
  const rawQueryString = input.rawQueryString ?? '';
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, value] of Object.entries(input.headers ?? {})) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    const values = Array.isArray(value) ? value : [String(value)];
    if (lower === 'cookie') {
      cookies = [...(cookies ?? []), ...values.flatMap((v) => v.split(';').map((c) => c.trim()))].filter(
        Boolean,
      );
      continue;
    }
    headers[lower] =
      headers[lower] === undefined ? values.join(',') : `${headers[lower]},${values.join(',')}`;
  }
  const bodyBytes =
    typeof input.body === 'string' ? Buffer.from(input.body, 'utf8') : (input.body ?? Buffer.alloc(0));
  // Headers API Gateway adds on the way in.
  headers.host ??= 'localhost';
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-forwarded-port'] ??= /:(\d+)$/.exec(headers.host)?.[1] ?? '80';
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  if (bodyBytes.length > 0) headers['content-length'] ??= String(bodyBytes.length);

  const domainName = headers.host.replace(/:\d+$/, '');
  const queryStringParameters = parseQueryString(rawQueryString);
  const pathParameters =
    input.pathParameters && Object.keys(input.pathParameters).length > 0 ? input.pathParameters : undefined;
  return {
    version: '2.0',
    routeKey: input.routeKey,
    rawPath: input.rawPath,
    rawQueryString,
    ...(cookies && cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(queryStringParameters ? { queryStringParameters } : {}),
    requestContext: {
      accountId: ACCOUNT,
      apiId: 'local',
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: input.method,
        path: safeDecode(input.rawPath),
        protocol: input.protocol ?? 'HTTP/1.1',
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: input.requestId ?? newApiGatewayRequestId(),
      routeKey: input.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    ...(pathParameters ? { pathParameters } : {}),
    ...encodeBody(bodyBytes, headers['content-type']),
  };
}

/** A Lambda `Context` for one invocation of `functionName` with the given timeout. */
export function createLambdaContext(functionName: string, timeoutMs = LAMBDA_TIMEOUT_MS): Context {
  const deadline = Date.now() + timeoutMs;
  const now = new Date();
  const unsupported = () => {
    throw new Error('callback-style context methods are not supported; return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region()}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `${now.getUTCFullYear()}/${pad(now.getUTCMonth() + 1)}/${pad(now.getUTCDate())}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** The event EventBridge Scheduler/rules hand to a scheduled job. */
export function scheduledEvent(job: JobDef, now = new Date()): ScheduledEvent {
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'Scheduled Event',
    'source': 'aws.events',
    'account': ACCOUNT,
    'time': now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    'region': region(),
    'resources': [`arn:aws:events:${region()}:${ACCOUNT}:rule/spot-optimizer-${job.name}`],
    'detail': {},
  };
}

// ---------------------------------------------------------------------------------------------
// Results

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

/**
 * API Gateway's v2 result rules: an object with `statusCode` is used as is (body base64-decoded
 * when `isBase64Encoded`); anything else (an object without `statusCode`, a string) is a 200
 * `application/json` response whose body is the value (strings as they are, the rest as JSON).
 * A malformed result throws, which the caller turns into API Gateway's 500.
 */
export function normalizeResult(result: unknown): HttpResponse {
  if (typeof result === 'object' && result !== null && 'statusCode' in result) {
    const r = result as {
      statusCode: unknown;
      headers?: unknown;
      body?: unknown;
      isBase64Encoded?: unknown;
      cookies?: unknown;
    };
    if (
      typeof r.statusCode !== 'number' ||
      !Number.isInteger(r.statusCode) ||
      r.statusCode < 100 ||
      r.statusCode > 599
    ) {
      throw new Error(`malformed Lambda result: statusCode ${String(r.statusCode)}`);
    }
    if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
      throw new Error('malformed Lambda result: body must be a string');
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries((r.headers ?? {}) as Record<string, unknown>)) {
      if (value !== undefined && value !== null) headers[name.toLowerCase()] = String(value);
    }
    const body = typeof r.body === 'string' ? r.body : '';
    return {
      statusCode: r.statusCode,
      headers,
      cookies: Array.isArray(r.cookies) ? r.cookies.map(String) : [],
      body: r.isBase64Encoded === true ? Buffer.from(body, 'base64') : Buffer.from(body, 'utf8'),
    };
  }
  const body = typeof result === 'string' ? result : result === undefined ? '' : JSON.stringify(result);
  return {
    statusCode: 200,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(body, 'utf8'),
  };
}

const gatewayError = (statusCode: number, message: string): HttpResponse =>
  jsonResponse(statusCode, { message });

function jsonResponse(statusCode: number, value: unknown): HttpResponse {
  return {
    statusCode,
    headers: { 'content-type': 'application/json' },
    cookies: [],
    body: Buffer.from(JSON.stringify(value), 'utf8'),
  };
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** Runs a Lambda handler with its timeout: a timed-out invocation is an error, as in Lambda. */
async function withTimeout<T>(run: () => Promise<T>, timeoutMs: number, functionName: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new Error(`${functionName}: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([run(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Local-only helpers: EventBridge events and jobs

export interface JobRun {
  ok: boolean;
  durationMs: number;
  result?: unknown;
  error?: string;
}

/** Invokes a scheduled job's handler once with a scheduled event. */
export async function invokeJob(
  job: JobDef,
  load: (job: JobDef) => Promise<EventHandler> = (j) => loadHandler<EventHandler>(jobHandlerPath(j)),
  timeoutMs = 15 * 60_000,
): Promise<JobRun> {
  const handler = await load(job);
  const started = performance.now();
  const name = `spot-optimizer-job-${job.name}`;
  try {
    const result = await withTimeout(
      () => handler(scheduledEvent(job), createLambdaContext(name, timeoutMs)),
      timeoutMs,
      name,
    );
    return { ok: true, durationMs: Math.round(performance.now() - started), result };
  } catch (err) {
    return { ok: false, durationMs: Math.round(performance.now() - started), error: errorMessage(err) };
  }
}

// ---------------------------------------------------------------------------------------------
// The server

export interface LocalGatewayOptions {
  routesByGroup: RoutesByGroup;
  /** Default: imports `functions/<group>/handler.ts`. */
  loadGroupHandler?: (group: GroupName) => Promise<HttpHandler>;
  /** Default: imports functions/openapi/handler.ts (served at GET /openapi.json unless the table has it). */
  loadOpenApiHandler?: () => Promise<HttpHandler>;
  /** Default: imports functions/ec2-events/handler.ts (POST /local/eventbridge). */
  loadEventHandler?: () => Promise<EventHandler>;
  /** Default: imports `functions/jobs/<dir>/handler.ts` (POST /local/jobs/<name>). */
  loadJobHandler?: (job: JobDef) => Promise<EventHandler>;
  jobs?: JobDef[];
  /** Serve the `/local/*` helper routes (default true). */
  localRoutes?: boolean;
  /** Lambda timeout per invocation (default 25 s). */
  timeoutMs?: number;
  maxRequestBytes?: number;
  /** One line per request and the stack of every handler failure (default: silent). */
  log?: (line: string) => void;
  /** Origins whose preflights are answered, as the HttpApi's corsPreflight does (default: none). */
  corsOrigins?: readonly string[];
  /** The token `/local/*` routes require (default: ADMIN_TOKEN, read at each request). */
  adminToken?: string;
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\s*(;|$)/i;

/**
 * `/local/*` routes act as the admin and run code on the developer's machine, so a web page the
 * developer visits must not be able to call them (CSRF): they need `Authorization: Bearer <admin
 * token>` (a header no cross-site form or simple request can carry) and a JSON content type (a
 * cross-origin `text/plain` POST is refused before its body is read). Returns the refusal, if any.
 */
export function refuseLocalRoute(headers: IncomingMessage['headers'], adminToken: string | undefined): HttpResponse | undefined {
  if (!adminToken) return jsonResponse(403, { ok: false, error: '/local routes need ADMIN_TOKEN to be set' });
  const presented = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1] ?? '';
  if (!digestsEqual(hashToken(presented), hashToken(adminToken))) {
    return jsonResponse(401, { ok: false, error: '/local routes need Authorization: Bearer <admin token>' });
  }
  if (!JSON_TYPE.test(headers['content-type'] ?? '')) {
    return jsonResponse(415, { ok: false, error: '/local routes take application/json bodies only' });
  }
  return undefined;
}

class TooLargeError extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume(); // discard the rest so the 413 can be written
        reject(new TooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** API Gateway terminates the client connection: connection-level headers never reach Lambda. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const withoutHopByHop = (headers: NodeJS.Dict<string[]>): NodeJS.Dict<string[]> =>
  Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));

function writeResponse(res: ServerResponse, response: HttpResponse, requestId: string): void {
  const headers: Record<string, string | string[]> = { ...response.headers, 'apigw-requestid': requestId };
  if (response.cookies.length > 0) headers['set-cookie'] = response.cookies;
  headers['content-length'] = String(response.body.length);
  res.writeHead(response.statusCode, headers);
  res.end(response.body);
}

/**
 * The local HTTP API: every route of `routesByGroup`, GET /openapi.json, and the local-only
 * `POST /local/eventbridge` (one EventBridge event → the EC2 events consumer) and
 * `POST /local/jobs/<name>` (run a scheduled job now). Returns an unstarted server; call
 * `listen` (port 0 in tests).
 */
export function createLocalGateway(options: LocalGatewayOptions): Server {
  const match = createRouteMatcher(options.routesByGroup);
  const timeoutMs = options.timeoutMs ?? LAMBDA_TIMEOUT_MS;
  const maxBytes = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const jobs = options.jobs ?? JOBS;
  const log = options.log ?? (() => {});
  const loadGroup =
    options.loadGroupHandler ?? ((group: GroupName) => loadHandler<HttpHandler>(groupHandlerPath(group)));
  const loadOpenApi = options.loadOpenApiHandler ?? (() => loadHandler<HttpHandler>(OPENAPI_HANDLER_PATH));
  const loadEvents = options.loadEventHandler ?? (() => loadHandler<EventHandler>(EC2_EVENTS_HANDLER_PATH));
  const loadJob = options.loadJobHandler ?? ((job: JobDef) => loadHandler<EventHandler>(jobHandlerPath(job)));
  const servesOpenApi = !match('GET', '/openapi.json');

  /** A failure to load a function module: 500 with the reason (local only). */
  const loadFailure = (what: string, err: unknown): HttpResponse => {
    log(`could not load ${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return gatewayError(500, `local gateway: could not load ${what}: ${errorMessage(err)}`);
  };

  async function invokeHttp(
    load: () => Promise<HttpHandler>,
    what: string,
    functionName: string,
    event: APIGatewayProxyEventV2,
  ): Promise<HttpResponse> {
    let handler: HttpHandler;
    try {
      handler = await load();
    } catch (err) {
      return loadFailure(what, err);
    }
    try {
      const result = await withTimeout(
        () => handler(event, createLambdaContext(functionName, timeoutMs)),
        timeoutMs,
        functionName,
      );
      return normalizeResult(result);
    } catch (err) {
      // An unhandled Lambda error or a malformed result: API Gateway answers a bare 500.
      log(`${functionName} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      return gatewayError(500, 'Internal Server Error');
    }
  }

  async function localRoute(
    method: string,
    rawPath: string,
    body: Buffer,
    headers: IncomingMessage['headers'],
  ): Promise<HttpResponse | undefined> {
    if (method !== 'POST') return undefined;
    if (rawPath !== '/local/eventbridge' && !rawPath.startsWith('/local/jobs/')) return undefined;
    const refused = refuseLocalRoute(headers, options.adminToken ?? process.env.ADMIN_TOKEN);
    if (refused) return refused;
    if (rawPath === '/local/eventbridge') {
      let event: unknown;
      try {
        event = JSON.parse(body.toString('utf8'));
      } catch {
        return jsonResponse(400, { ok: false, error: 'the body must be one EventBridge event as JSON' });
      }
      if (typeof event !== 'object' || event === null || Array.isArray(event)) {
        return jsonResponse(400, {
          ok: false,
          error: 'the body must be one EventBridge event (a JSON object)',
        });
      }
      let handler: EventHandler;
      try {
        handler = await loadEvents();
      } catch (err) {
        const status = loadFailure(EC2_EVENTS_HANDLER_PATH, err).statusCode; // logs a real import error
        return jsonResponse(status, {
          ok: false,
          error: `could not load ${EC2_EVENTS_HANDLER_PATH}: ${errorMessage(err)}`,
        });
      }
      const name = 'spot-optimizer-ec2-events';
      try {
        const result = await withTimeout(
          () => handler(event as EventBridgeEvent<string, unknown>, createLambdaContext(name, timeoutMs)),
          timeoutMs,
          name,
        );
        return jsonResponse(200, { ok: true, result: result ?? null });
      } catch (err) {
        log(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        // Local dev surface only: the message helps whoever replays the event.
        return jsonResponse(500, { ok: false, error: errorMessage(err) });
      }
    }
    const jobName = /^\/local\/jobs\/([^/]+)$/.exec(rawPath)?.[1];
    if (jobName !== undefined) {
      if (body.length > 0) {
        try {
          JSON.parse(body.toString('utf8'));
        } catch {
          return jsonResponse(400, { ok: false, error: 'the body must be JSON (or empty)' });
        }
      }
      const job = jobs.find((j) => j.name === safeDecode(jobName));
      if (!job) {
        return jsonResponse(404, {
          ok: false,
          error: `unknown job ${jobName}; jobs: ${jobs.map((j) => j.name).join(', ')}`,
        });
      }
      try {
        const run = await invokeJob(job, loadJob);
        if (!run.ok) log(`job ${job.name} failed: ${run.error}`);
        return run.ok
          ? jsonResponse(200, {
              ok: true,
              job: job.name,
              duration_ms: run.durationMs,
              result: run.result ?? null,
            })
          : jsonResponse(500, { ok: false, job: job.name, duration_ms: run.durationMs, error: run.error });
      } catch (err) {
        return jsonResponse(500, {
          ok: false,
          job: job.name,
          error: errorMessage(err),
        });
      }
    }
    return undefined;
  }

  async function respond(req: IncomingMessage, requestId: string): Promise<HttpResponse> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = (q < 0 ? url : url.slice(0, q)).replace(/#.*$/, '') || '/';
    const rawQueryString = q < 0 ? '' : url.slice(q + 1).replace(/#.*$/, '');

    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > maxBytes) return gatewayError(413, 'Request Entity Too Large');
    let body: Buffer;
    try {
      body = await readBody(req, maxBytes);
    } catch (err) {
      if (err instanceof TooLargeError) return gatewayError(413, 'Request Entity Too Large');
      throw err;
    }

    if (options.localRoutes !== false && rawPath.startsWith('/local/')) {
      const local = await localRoute(method, rawPath, body, req.headers);
      if (local) return local;
    }

    const eventInput = {
      method,
      rawPath,
      rawQueryString,
      headers: withoutHopByHop(req.headersDistinct),
      body,
      sourceIp: (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, ''),
      protocol: `HTTP/${req.httpVersion}`,
      requestId,
    };
    const found = match(method, rawPath);
    if (found) {
      const event = buildHttpEvent({
        ...eventInput,
        routeKey: found.routeKey,
        pathParameters: found.pathParameters,
      });
      return invokeHttp(
        () => loadGroup(found.group),
        groupHandlerPath(found.group),
        `spot-optimizer-${found.group}`,
        event,
      );
    }
    if (servesOpenApi && method === 'GET' && rawPath === '/openapi.json') {
      const event = buildHttpEvent({ ...eventInput, routeKey: 'GET /openapi.json' });
      return invokeHttp(loadOpenApi, OPENAPI_HANDLER_PATH, 'spot-optimizer-openapi', event);
    }
    return gatewayError(404, 'Not Found');
  }

  const corsOrigins = options.corsOrigins ?? [];
  return createServer((req, res) => {
    const requestId = newApiGatewayRequestId();
    const started = performance.now();
    const origin = req.headers.origin;
    // API Gateway answers a CORS preflight itself (204) when corsPreflight is configured; the routes never see it.
    const preflight = corsOrigins.length > 0 && req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
    const answer = preflight
      ? Promise.resolve<HttpResponse>({ statusCode: 204, headers: {}, cookies: [], body: Buffer.alloc(0) })
      : respond(req, requestId);
    answer
      .catch((err: unknown) => {
        log(`local gateway error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        return gatewayError(500, 'Internal Server Error');
      })
      .then((response) => {
        // A 413 is sent before the body is read: close the connection rather than drain 10 MB.
        if (response.statusCode === 413) res.setHeader('connection', 'close');
        const cors = corsHeaders(origin, corsOrigins, preflight);
        if (cors.vary && response.headers.vary) cors.vary = `${response.headers.vary}, ${cors.vary}`;
        Object.assign(response.headers, cors);
        writeResponse(res, response, requestId);
        log(
          `${req.method} ${req.url} → ${response.statusCode} (${Math.round(performance.now() - started)} ms)`,
        );
      });
  });
}

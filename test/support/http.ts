import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  buildHttpEvent,
  createLambdaContext,
  createLocalGateway,
  createRouteMatcher,
  groupHandlerPath,
  type HttpHandler,
  type LocalGatewayOptions,
  loadHandler,
  loadRoutesByGroup,
  normalizeResult,
  type RoutesByGroup,
} from '../../bin/support/local-gateway.js';
import type { GroupName } from '../../functions/shared/http/route.js';

/** What both `api()` and `invoke()` return: status, lower-cased headers, raw text and parsed JSON. */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed body, or undefined when it is empty or not JSON. */
  json: T;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and Buffers as they are. */
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Shorthand for `Authorization: Bearer <token>`. */
  token?: string;
}

let routes: Promise<RoutesByGroup> | undefined;
const routesByGroup = (): Promise<RoutesByGroup> => {
  routes ??= loadRoutesByGroup().then((r) => r.routesByGroup);
  return routes;
};

/**
 * Starts the local API Gateway emulation in this process on 127.0.0.1, port 0, serving the route
 * table (uses the test run's DynamoDB Local through the environment setup-env.ts set).
 */
export async function startLocalApi(
  options: Partial<LocalGatewayOptions> = {},
): Promise<{ baseUrl: string; server: Server; close: () => Promise<void> }> {
  const server = createLocalGateway({
    ...options,
    routesByGroup: options.routesByGroup ?? (await routesByGroup()),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

function withQuery(path: string, query: RequestOptions['query']): string {
  const entries = Object.entries(query ?? {}).filter(
    (e): e is [string, string | number | boolean] => e[1] !== undefined,
  );
  if (entries.length === 0) return path;
  const qs = new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString();
  return `${path}${path.includes('?') ? '&' : '?'}${qs}`;
}

function encodeRequest(options: RequestOptions): { headers: Record<string, string>; body?: string | Buffer } {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = value;
  if (options.token) headers.authorization ??= `Bearer ${options.token}`;
  if (options.body === undefined) return { headers };
  if (typeof options.body === 'string' || Buffer.isBuffer(options.body))
    return { headers, body: options.body };
  headers['content-type'] ??= 'application/json';
  return { headers, body: JSON.stringify(options.body) };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A tiny fetch wrapper over a running API: `api(baseUrl).post('/api/...', { token, body })`. */
export function api(baseUrl: string) {
  async function request<T = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<ApiResponse<T>> {
    const { headers, body } = encodeRequest(options);
    const res = await fetch(`${baseUrl}${withQuery(path, options.query)}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: Object.fromEntries(res.headers), text, json: parseJson(text) as T };
  }
  return {
    request,
    get: <T = unknown>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
    post: <T = unknown>(path: string, options?: RequestOptions) => request<T>('POST', path, options),
    put: <T = unknown>(path: string, options?: RequestOptions) => request<T>('PUT', path, options),
    delete: <T = unknown>(path: string, options?: RequestOptions) => request<T>('DELETE', path, options),
  };
}

export type Api = ReturnType<typeof api>;

/**
 * Calls a group's Lambda handler in-process, no socket: the route is matched in that group's
 * routes and the event is built by the same builder the local gateway uses, so the handler sees
 * exactly what API Gateway would send. `path` is concrete (`/api/client/<id>`), query optional.
 */
export async function invoke<T = unknown>(
  group: GroupName,
  method: string,
  path: string,
  options: Omit<RequestOptions, 'body'> & { body?: unknown; now?: Date } = {},
): Promise<ApiResponse<T> & { event: APIGatewayProxyEventV2; result: unknown }> {
  const groupRoutes = (await routesByGroup())[group];
  if (!groupRoutes) throw new Error(`no routes loaded for group ${group}`);
  const full = withQuery(path, options.query);
  const q = full.indexOf('?');
  const rawPath = q < 0 ? full : full.slice(0, q);
  const found = createRouteMatcher({ [group]: groupRoutes })(method, rawPath);
  if (!found) throw new Error(`group ${group} has no route for ${method} ${rawPath}`);
  const { headers, body } = encodeRequest(options);
  const event = buildHttpEvent({
    method,
    rawPath,
    rawQueryString: q < 0 ? '' : full.slice(q + 1),
    headers: { 'user-agent': 'vitest', ...headers },
    ...(body !== undefined ? { body } : {}),
    routeKey: found.routeKey,
    pathParameters: found.pathParameters,
    // The request's time (API Gateway's timeEpoch): the code's one clock seam.
    ...(options.now ? { now: options.now } : {}),
  });
  const handler = await loadHandler<HttpHandler>(groupHandlerPath(group));
  const result = await handler(event, createLambdaContext(`spot-optimizer-${group}`));
  const response = normalizeResult(result);
  const text = response.body.toString('utf8');
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: parseJson(text) as T,
    event,
    result,
  };
}

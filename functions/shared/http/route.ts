import type { z } from 'zod';
import type { TableAccess } from '../db/table-access.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** API.md §1.1 auth classes. */
export type AuthClass = 'admin' | 'client' | 'agent-client' | 'none';

/** API.md §2: one Lambda per endpoint group. */
export const GROUPS = [
  'health',
  'clients',
  'admin',
  'agents',
  'commands',
  'replicas',
  'emergency',
  'instances',
  'decisions',
  'reporting',
  'analytics',
  'notifications',
  'events',
  'insights',
  'console',
] as const;
export type GroupName = (typeof GROUPS)[number];

/**
 * Each group's table access, declared once (see shared/db/table-access.ts): the Lambda's role gets
 * exactly these DynamoDB actions. Read-only groups answer from what others wrote.
 */
export const GROUP_TABLE_ACCESS: Record<GroupName, TableAccess> = {
  health: 'read',
  clients: 'readWrite',
  admin: 'readWrite',
  agents: 'readWrite',
  commands: 'readWrite',
  replicas: 'readWrite',
  emergency: 'readWrite',
  instances: 'read',
  decisions: 'readWrite',
  reporting: 'readWrite',
  analytics: 'read',
  notifications: 'readWrite',
  events: 'read',
  insights: 'read',
  console: 'none',
};

export type ResponseKind = 'json' | 'csv' | 'sse' | 'html' | 'asset';

/** Any zod object schema (the shape is the route's business). */
export type AnyObjectSchema = z.ZodObject<z.ZodRawShape>;

/**
 * One route, declared once. The CDK HttpApi, the local server, the OpenAPI document, the group
 * Lambda's dispatcher and the generated safety tests all read these objects.
 */
export interface RouteDef<
  P extends AnyObjectSchema | undefined = AnyObjectSchema | undefined,
  Q extends AnyObjectSchema | undefined = AnyObjectSchema | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
  R extends z.ZodType = z.ZodType,
  A extends AuthClass = AuthClass,
> {
  operationId: string;
  method: HttpMethod;
  /** API Gateway path template, e.g. `/api/agents/{aid}/heartbeat`. */
  path: string;
  group: GroupName;
  auth: A;
  summary: string;
  params?: P;
  query?: Q;
  body?: B;
  response: R;
  /** 200 unless stated (201 create, 202 queued command). */
  status?: 200 | 201 | 202;
  /** Frozen by the deployed v4 agent (API.md: AGENT WIRE CONTRACT). */
  wire?: boolean;
  responseKind?: ResponseKind;
  /** Set on alias routes: the operationId whose handler, validation and idempotency scope it shares. */
  aliasOf?: string;
  /** Whether the route accepts a client token in the body (register). */
  bodyToken?: boolean;
}

/** The parsed type of an optional schema slot (no schema → empty object). */
type Infer<S> = [NonNullable<S>] extends [never]
  ? Record<string, never>
  : NonNullable<S> extends z.ZodType
    ? z.infer<NonNullable<S>>
    : Record<string, never>;

/** What a route implementation receives: validated, typed input. */
export interface RouteInput<D extends RouteDef> {
  params: Infer<D['params']>;
  query: Infer<D['query']>;
  body: Infer<D['body']>;
  /** Lower-cased request headers. */
  headers: Record<string, string | undefined>;
  /** `If-Match: "<n>"` parsed, when sent. */
  ifMatchVersion?: number;
}

/** An implementation may return the body (sent with the route's status) or a full reply. */
export interface Reply<T = unknown> {
  status: number;
  body: T;
  headers?: Record<string, string>;
}

const REPLY = Symbol('reply');

/** A full reply (status, body, headers) instead of a bare body with the route's status. */
export const reply = <T>(status: number, body: T, headers?: Record<string, string>): Reply<T> =>
  ({ [REPLY]: true, status, body, ...(headers ? { headers } : {}) }) as Reply<T>;

export const isReply = (value: unknown): value is Reply =>
  typeof value === 'object' && value !== null && REPLY in value;

/** Declares a route (identity function that keeps the literal types). */
export const defineRoute = <
  P extends AnyObjectSchema | undefined = undefined,
  Q extends AnyObjectSchema | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
  R extends z.ZodType = z.ZodType,
  A extends AuthClass = AuthClass,
>(
  def: RouteDef<P, Q, B, R, A> & { aliasOf?: undefined },
): RouteDef<P, Q, B, R, A> & { aliasOf?: undefined } => def;

/** Declares an alias: same schemas and handler as `canonical`, another path. */
export const aliasRoute = <D extends RouteDef>(
  canonical: D,
  alias: { operationId: string; path: string; summary?: string },
): Omit<D, 'aliasOf'> & { aliasOf: string } => ({
  ...canonical,
  operationId: alias.operationId,
  path: alias.path,
  summary: alias.summary ?? `Alias of ${canonical.method} ${canonical.path}`,
  aliasOf: canonical.operationId,
});

/** `METHOD /path` — the API Gateway v2 route key. */
export const routeKey = (route: Pick<RouteDef, 'method' | 'path'>): string => `${route.method} ${route.path}`;

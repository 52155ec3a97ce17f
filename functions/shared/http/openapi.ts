import * as z from 'zod';
import * as resource from './resource-schemas.js';
import type { AnyObjectSchema, RouteDef } from './route.js';
import { errorSchema } from './schemas.js';

/**
 * OpenAPI 3.1 document generated from the route table's own zod schemas (zod 4's native JSON
 * Schema output, which is the 3.1 schema dialect). Request parts are described as input (before
 * coercion, defaults and transforms), responses as output. Imported only by the openapi Lambda and
 * tests: group handlers never load it.
 */

type JsonSchema = Record<string, unknown>;
type Io = 'input' | 'output';

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string; license: { name: string; identifier: string } };
  servers: { url: string; description: string; variables?: Record<string, { default: string; description: string }> }[];
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, JsonSchema>>;
  components: {
    schemas: Record<string, JsonSchema>;
    responses: Record<string, JsonSchema>;
    parameters: Record<string, JsonSchema>;
    securitySchemes: Record<string, JsonSchema>;
  };
}

const GROUP_DESCRIPTIONS: Record<string, string> = {
  health: 'Service banner and health check',
  clients: 'Client accounts and tokens',
  admin: 'Admin dashboards and bulk operations',
  agents: 'Agent registration, heartbeat and configuration',
  commands: 'Switch commands',
  replicas: 'Replica lifecycle',
  emergency: 'Rebalance and termination notices',
  instances: 'Instances and pricing',
  decisions: 'Decision engine and parameter uploads',
  reporting: 'Agent reports',
  analytics: 'Analytics and CSV exports',
  notifications: 'Notifications and pricing alerts',
  events: 'Server-sent events',
};

const ERRORS: Record<string, string> = {
  400: 'VALIDATION_ERROR, INVALID_JSON or INVALID_NEXT_TOKEN',
  401: 'UNAUTHORIZED: missing, unknown or revoked token',
  403: 'FORBIDDEN, ADMIN_REQUIRED or CLIENT_INACTIVE',
  404: 'NOT_FOUND or AGENT_DELETED',
  409: 'VERSION_CONFLICT, IDEMPOTENCY_IN_PROGRESS, ALREADY_EXISTS, INVALID_TRANSITION or COMMAND_IN_FLIGHT',
  413: 'PAYLOAD_TOO_LARGE: the body exceeds 256 KiB',
  422: 'A business rule refused the request (see the error code)',
  429: 'RATE_LIMITED (the gateway itself answers with {"message"})',
  500: 'INTERNAL_ERROR',
  503: 'SERVICE_UNAVAILABLE: the database is throttling or unreachable; retry after the Retry-After header (seconds)',
};

/** Answers besides the declared status that API.md documents (keyed by canonical operationId). */
const EXTRA_RESPONSES: Record<string, Record<string, { description: string; schema?: JsonSchema }>> = {
  registerAgent: { 200: { description: 'An existing agent was reused' } },
  createEmergencyReplica: {
    200: { description: 'An existing replica, or a decline (success: false, error, reason_code)' },
  },
  upsertPricingAlert: { 200: { description: 'An existing alert was updated (alert_id + version)' } },
  getBanner: {
    303: { description: 'A browser (Accept: text/html) is sent to the web console (Location: /console)' },
  },
  getHealth: {
    503: {
      description: 'Unhealthy',
      schema: { type: 'object', properties: { status: { const: 'unhealthy' } }, required: ['status'] },
    },
  },
};

const TEXT_CONTENT: Record<string, string> = {
  json: 'text/plain',
  csv: 'text/csv',
  sse: 'text/event-stream',
  html: 'text/html',
  asset: 'application/octet-stream',
};

/**
 * Named component schemas: the entities several groups return and their enums, so a client generated
 * from the document has types to import (Agent, Command, Instance…). A local registry: the schemas
 * themselves stay untouched for the handlers.
 */
const NAMED_SCHEMAS: [z.core.$ZodType, string][] = [
  [resource.agentSchema, 'Agent'],
  [resource.agentConfigSchema, 'AgentConfig'],
  [resource.instanceSchema, 'Instance'],
  [resource.replicaSchema, 'Replica'],
  [resource.replicaPoolSchema, 'ReplicaPool'],
  [resource.commandSchema, 'Command'],
  [resource.pendingCommandSchema, 'PendingCommand'],
  [resource.switchSchema, 'Switch'],
  [resource.poolPriceSchema, 'PoolPrice'],
  [resource.notificationSchema, 'Notification'],
  [resource.emergencyEventSchema, 'EmergencyEvent'],
  [resource.pricingAlertSchema, 'PricingAlert'],
  [resource.agentStatus, 'AgentStatus'],
  [resource.noticeStatus, 'NoticeStatus'],
  [resource.instanceRole, 'InstanceRole'],
  [resource.legacyInstanceStatus, 'LegacyInstanceStatus'],
  [resource.replicaStatus, 'ReplicaStatus'],
  [resource.replicaType, 'ReplicaType'],
  [resource.commandType, 'CommandType'],
  [resource.commandStatus, 'CommandStatus'],
  [resource.triggerType, 'TriggerType'],
  [resource.severity, 'Severity'],
  [resource.signalType, 'SignalType'],
  [resource.emergencyOutcome, 'EmergencyOutcome'],
  [resource.alertType, 'AlertType'],
  [resource.notificationChannel, 'NotificationChannel'],
  [errorSchema, 'Error'],
];
const registry = z.registry<{ id: string }>();
for (const [schema, id] of NAMED_SCHEMAS) registry.add(schema, { id });
const NAMED = new Set(NAMED_SCHEMAS.map(([, id]) => id));

/** Where the API is served: a deployed stack (its ApiUrl output) or the local runtime. */
const SERVERS: OpenApiDocument['servers'] = [
  {
    url: 'https://{apiId}.execute-api.{region}.amazonaws.com',
    description: 'A deployed stack: the ApiUrl output of `npm run deploy`',
    variables: {
      apiId: { default: 'abcdef1234', description: 'the HTTP API id (first label of ApiUrl)' },
      region: { default: 'us-east-1', description: 'the region the stack is deployed in' },
    },
  },
  { url: 'http://127.0.0.1:3000', description: 'The local runtime (`npm start`)' },
];

/** Rewrites `#/$defs/x` references to the hoisted component names. */
function rewriteRefs(value: unknown, names: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, names));
  if (value === null || typeof value !== 'object') return value;
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = k === '$ref' && typeof v === 'string' && names.has(v) ? names.get(v) : rewriteRefs(v, names);
  }
  return out;
}

class SchemaConverter {
  readonly components: Record<string, JsonSchema> = {};
  private counter = 0;

  convert(schema: z.core.$ZodType, io: Io): JsonSchema {
    // A JSON round trip drops the non-enumerable helpers zod attaches to its output.
    const json = JSON.parse(
      JSON.stringify(z.toJSONSchema(schema, { io, unrepresentable: 'any', metadata: registry })),
    ) as JsonSchema;
    const { $schema: _dialect, $defs, ...rest } = json;
    if (!$defs || typeof $defs !== 'object') return rest;
    // Named schemas come out as local $defs; the document needs them as components: `Agent` as a
    // response, `AgentInput` as a request part (merged into `Agent` at the end when identical).
    // Any other id (a schema registered elsewhere) gets a numbered name.
    const names = new Map<string, string>();
    for (const name of Object.keys($defs)) {
      this.counter += 1;
      const component = NAMED.has(name)
        ? (io === 'output' ? name : `${name}Input`)
        : `${name.replace(/[^\w.-]/g, '_')}_${this.counter}`;
      names.set(`#/$defs/${name}`, `#/components/schemas/${component}`);
    }
    for (const [name, def] of Object.entries($defs as Record<string, unknown>)) {
      const target = names.get(`#/$defs/${name}`)?.split('/').pop();
      if (target) this.components[target] = rewriteRefs(def, names) as JsonSchema;
    }
    return rewriteRefs(rest, names) as JsonSchema;
  }

  /** `XInput` components identical to `X` (after the same merge inside them) become `X`: the map of refs to rewrite. */
  mergeInputs(): Map<string, string> {
    const merged = new Map<string, string>();
    for (const name of Object.keys(this.components)) {
      const base = name.endsWith('Input') ? name.slice(0, -'Input'.length) : undefined;
      if (!base || !NAMED.has(base)) continue;
      if (!this.components[base]) {
        merged.set(`#/components/schemas/${name}`, `#/components/schemas/${base}`);
        continue;
      }
      merged.set(`#/components/schemas/${name}`, `#/components/schemas/${base}`);
      const same = JSON.stringify(rewriteRefs(this.components[name], merged)) === JSON.stringify(this.components[base]);
      if (!same) merged.delete(`#/components/schemas/${name}`);
    }
    for (const from of merged.keys()) {
      const name = from.split('/').pop() as string;
      const base = name.slice(0, -'Input'.length);
      this.components[base] ??= this.components[name] as JsonSchema;
      delete this.components[name];
    }
    for (const [name, def] of Object.entries(this.components)) this.components[name] = rewriteRefs(def, merged) as JsonSchema;
    return merged;
  }
}

function parameters(
  converter: SchemaConverter,
  location: 'path' | 'query',
  schema: AnyObjectSchema | undefined,
): JsonSchema[] {
  if (!schema) return [];
  const json = converter.convert(schema, 'input');
  const properties = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(properties).map(([name, fieldSchema]) => ({
    name,
    in: location,
    required: location === 'path' || required.has(name),
    schema: fieldSchema,
  }));
}

function successContent(converter: SchemaConverter, route: RouteDef): Record<string, { schema: JsonSchema }> {
  // A union may mix a text body (CSV/SSE) with a JSON one (the events stream's format=json).
  const options: z.core.$ZodType[] =
    route.response instanceof z.ZodUnion ? [...route.response.options] : [route.response];
  const text = options.filter((o) => o instanceof z.ZodString);
  const json = options.filter((o) => !(o instanceof z.ZodString));
  const content: Record<string, { schema: JsonSchema }> = {};
  if (text.length > 0)
    content[TEXT_CONTENT[route.responseKind ?? 'json'] ?? 'text/plain'] = { schema: { type: 'string' } };
  if (json.length === 1 && json[0])
    content['application/json'] = { schema: converter.convert(json[0], 'output') };
  if (json.length > 1) {
    content['application/json'] = { schema: { anyOf: json.map((o) => converter.convert(o, 'output')) } };
  }
  return content;
}

function errorCodes(route: RouteDef): string[] {
  const write = route.method !== 'GET';
  const codes: string[] = [];
  if (write || route.params || route.query || route.body) codes.push('400');
  if (route.auth !== 'none') codes.push('401', '403');
  if (route.path.includes('{')) codes.push('404');
  if (write) codes.push('409');
  if (route.body) codes.push('413');
  if (write) codes.push('422');
  codes.push('429', '500');
  // Every route that reads the table (all but the banner and the console's files, which need no
  // token) answers 503 while DynamoDB throttles or is unreachable.
  if (route.auth !== 'none') codes.push('503');
  return codes;
}

function operation(converter: SchemaConverter, route: RouteDef): JsonSchema {
  const canonicalId = route.aliasOf ?? route.operationId;
  const params: JsonSchema[] = [
    ...parameters(converter, 'path', route.params),
    ...parameters(converter, 'query', route.query),
  ];
  if (route.method !== 'GET') {
    params.push(
      { $ref: '#/components/parameters/IdempotencyKey' },
      { $ref: '#/components/parameters/XRequestId' },
      { $ref: '#/components/parameters/IfMatch' },
    );
  }
  if (route.responseKind === 'sse') params.push({ $ref: '#/components/parameters/LastEventId' });

  const success = String(route.status ?? 200);
  const content = successContent(converter, route);
  const responses: Record<string, JsonSchema> = { [success]: { description: route.summary, content } };
  for (const [status, extra] of Object.entries(EXTRA_RESPONSES[canonicalId] ?? {})) {
    // A redirect has no body, only its Location.
    responses[status] = status.startsWith('3')
      ? { description: extra.description, headers: { Location: { schema: { type: 'string' } } } }
      : { description: extra.description, content: extra.schema ? { 'application/json': { schema: extra.schema } } : content };
  }
  for (const code of errorCodes(route)) responses[code] = { $ref: `#/components/responses/Error${code}` };

  const op: JsonSchema = {
    'operationId': route.operationId,
    'summary': route.summary,
    'tags': [route.group],
    'security': route.auth === 'none' ? [] : [{ bearerAuth: [] }],
    'x-auth-class': route.auth,
  };
  if (params.length > 0) op.parameters = params;
  if (route.body) {
    const schema = converter.convert(route.body, 'input');
    op.requestBody = {
      // An empty body counts as {} (API.md §1.2), so a body is only required when it has required fields.
      required: Array.isArray(schema.required) && schema.required.length > 0,
      content: { 'application/json': { schema } },
    };
  }
  op.responses = responses;
  if (route.wire) op['x-agent-wire-contract'] = true;
  if (route.aliasOf) op['x-alias-of'] = route.aliasOf;
  return op;
}

/** Builds the OpenAPI 3.1 document of `routes` (the route table). */
export function buildOpenApiDocument(
  routes: RouteDef[],
  options: { version?: string } = {},
): OpenApiDocument {
  const converter = new SchemaConverter();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const route of routes) {
    const item = paths[route.path] ?? {};
    item[route.method.toLowerCase()] = operation(converter, route);
    paths[route.path] = item;
  }
  const errorRef = converter.convert(errorSchema, 'output');
  const responses: Record<string, JsonSchema> = {};
  for (const [code, description] of Object.entries(ERRORS)) {
    const schema =
      code === '429'
        ? { anyOf: [errorRef, { $ref: '#/components/schemas/GatewayError' }] }
        : errorRef;
    responses[`Error${code}`] = {
      description,
      ...(code === '503'
        ? { headers: { 'Retry-After': { description: 'Seconds to wait before retrying', schema: { type: 'integer', minimum: 1 } } } }
        : {}),
      content: { 'application/json': { schema } },
    };
  }
  const groups = [...new Set(routes.map((r) => r.group))];
  const merged = converter.mergeInputs();
  return {
    openapi: '3.1.0',
    info: {
      title: 'Spot Optimizer control plane',
      version: options.version ?? '1.0.0',
      description:
        'Serverless control plane for EC2 spot fleets. Operations marked x-agent-wire-contract are frozen by the deployed v4.0.0 agent.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: SERVERS,
    tags: groups.map((name) => ({ name, description: GROUP_DESCRIPTIONS[name] ?? name })),
    paths: rewriteRefs(paths, merged) as typeof paths,
    components: {
      schemas: {
        ...converter.components,
        GatewayError: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
      },
      responses,
      parameters: {
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Replays the stored response of a repeated request for 24 h (API.md §1.4)',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
        XRequestId: {
          name: 'X-Request-ID',
          in: 'header',
          required: false,
          description: 'Alias of Idempotency-Key; both must agree when both are sent',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description: 'Optimistic locking: the expected version, e.g. "3"',
          schema: { type: 'string' },
        },
        LastEventId: {
          name: 'Last-Event-ID',
          in: 'header',
          required: false,
          description: 'Cursor of the last event received (same as `since`)',
          schema: { type: 'string' },
        },
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'Admin token or client token (register also accepts client_token in the body)',
        },
      },
    },
  };
}

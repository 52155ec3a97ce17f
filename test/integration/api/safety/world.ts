/**
 * The world the generated safety tests run in: two clients. B owns one of every resource a path
 * parameter can name ({cid} {aid} {iid} {rid} {cmd} {nid}) plus a pricing alert; A has its own
 * agent. Requests are built from ROUTE_TABLE alone: path parameters from B's resources, bodies and
 * queries from each route's own schema (route-examples.ts), so a new route is covered as soon as
 * it is declared.
 */
import { createHash, randomUUID } from 'node:crypto';
import { type Item, queryAll } from '../../../../functions/shared/db/conditions.js';
import { keys } from '../../../../functions/shared/db/keys.js';
import type { RouteDef } from '../../../../functions/shared/http/route.js';
import { TEST_ADMIN_TOKEN } from '../../../support/constants.js';
import { createClientInProcess, type CreatedClient } from '../../../support/factories.js';
import { type ApiResponse, invoke } from '../../../support/http.js';
import { exampleFor, type Hints } from '../../../support/route-examples.js';
import { type RegisteredAgent, registerAgent, seedCommand, seedNotification, seedReplica } from '../../../support/seed.js';

export interface Owner {
  client: CreatedClient;
  token: string;
  agent: RegisteredAgent;
}

export interface World {
  a: Owner;
  b: Owner & { replicaId: string; replicaInstanceId: string; commandId: string; notificationId: string; alertId: string };
  /** Path parameter values: B's resources. */
  params: Record<string, string>;
  /** Body/query field values that name B's resources. */
  hints: Hints;
  /** Strings that only B's data contains. */
  markers: string[];
}

async function owner(prefix: string): Promise<Owner> {
  const { client, token } = await createClientInProcess({ name: `${prefix}-${randomUUID()}` });
  const agent = await registerAgent(token, { hostname: `${prefix}-host-${randomUUID().slice(0, 8)}` });
  return { client, token, agent };
}

export async function buildWorld(): Promise<World> {
  const a = await owner('safety-a');
  const b = await owner('safety-b');
  const replica = await seedReplica(b.client.id, b.agent.agentId);
  const command = await seedCommand(b.client.id, b.agent.agentId, b.agent.instanceId);
  const notificationId = await seedNotification(b.client.id, { agentId: b.agent.agentId });
  const alert = await invoke<{ alert_id: string }>('notifications', 'POST', `/api/client/${b.client.id}/pricing-alerts`, {
    token: b.token,
    body: { alert_type: 'spot_price_above', threshold: 99, pool_id: 't3.medium.us-east-1a' },
  });
  if (alert.status !== 201) throw new Error(`seeding the alert failed: ${alert.status} ${alert.text}`);
  const bb = {
    ...b,
    replicaId: replica.id,
    replicaInstanceId: replica.instance_id,
    commandId: command.id,
    notificationId,
    alertId: alert.json.alert_id,
  };
  return {
    a,
    b: bb,
    params: {
      cid: b.client.id,
      aid: b.agent.agentId,
      iid: b.agent.instanceId,
      rid: replica.id,
      cmd: command.id,
      nid: notificationId,
    },
    hints: {
      client_id: b.client.id,
      agent_id: b.agent.agentId,
      instance_id: b.agent.instanceId,
      parent_instance_id: b.agent.instanceId,
      replica_id: replica.id,
      command_id: command.id,
      alert_id: alert.json.alert_id,
    },
    markers: [
      b.client.id,
      b.client.name,
      b.token,
      b.agent.agentId,
      b.agent.instanceId,
      b.agent.hostname,
      b.agent.logicalAgentId,
      replica.id,
      replica.instance_id,
      command.id,
      notificationId,
      alert.json.alert_id,
    ],
  };
}

export const RESOURCE_PARAMS = ['aid', 'iid', 'rid', 'cmd', 'nid'];
export const pathParams = (route: RouteDef): string[] => [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
export const fillPath = (route: RouteDef, params: Record<string, string>): string =>
  route.path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? `missing-${name}`));

export interface BuiltRequest {
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Whether the generated body and query satisfy the route's schemas. */
  valid: boolean;
  issues: string[];
}

/** A request that passes the route's validation, aimed at B's resources. */
export function validRequest(route: RouteDef, world: World, hints: Hints = world.hints): BuiltRequest {
  const body = route.body ? exampleFor(route.body, hints) : undefined;
  const query = route.query ? exampleFor(route.query, hints, true) : undefined;
  return {
    path: fillPath(route, world.params),
    ...(query ? { query: query.value as Record<string, string> } : {}),
    ...(body ? { body: body.value } : {}),
    valid: (body?.valid ?? true) && (query?.valid ?? true),
    issues: [...(body?.issues ?? []), ...(query?.issues ?? [])],
  };
}

export function send(route: RouteDef, req: Omit<BuiltRequest, 'valid' | 'issues'>, token?: string, headers: Record<string, string> = {}) {
  return invoke(route.group, route.method, req.path, {
    ...(token ? { token } : {}),
    ...(req.query ? { query: req.query } : {}),
    ...(req.body !== undefined ? { body: req.body } : {}),
    headers,
  });
}

/** B's markers that the response carries but the request did not (a leak). */
export function leakedMarkers(world: World, req: Omit<BuiltRequest, 'valid' | 'issues'>, res: ApiResponse): string[] {
  const sent = `${req.path} ${JSON.stringify(req.query ?? {})} ${JSON.stringify(req.body ?? null)}`;
  return world.markers.filter((m) => !sent.includes(m) && res.text.includes(m));
}

export const tokenFor = (route: RouteDef, ownerToken: string): string | undefined =>
  route.auth === 'admin' ? TEST_ADMIN_TOKEN : route.auth === 'none' ? undefined : ownerToken;

/**
 * A digest of everything stored under B: its client item collection (alerts, ledger…), agent
 * collection (replicas, commands, reports…), instance collection (lifecycle log), notifications,
 * feed, logical-id guard and every client-scoped index partition. Equal digests = nothing written.
 */
/** Live-item attributes a poll may write (see digestOfB). */
const POLL_MARKS = new Set(['commands_seen', 'replicas_seen']);

export async function digestOfB(world: World): Promise<string> {
  const b = world.b;
  const byPk = (pk: string) =>
    queryAll<Item>({ KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true });
  const byIndex = (index: string, pk: string) =>
    queryAll<Item>({ IndexName: index, KeyConditionExpression: `${index}PK = :pk`, ExpressionAttributeValues: { ':pk': pk } });
  const parts = await Promise.all([
    byPk(keys.client(b.client.id).PK),
    byPk(keys.agent(b.agent.agentId).PK),
    byPk(keys.instance(b.agent.instanceId).PK),
    byPk(keys.notification(b.notificationId).PK),
    byPk(keys.feedEvent(b.client.id, '').PK),
    byPk(keys.logicalAgent(b.client.id, b.agent.logicalAgentId).PK),
    ...keys.agentsOfClientShards(b.client.id).map((pk) => byIndex('GSI1', pk)),
    byIndex('GSI2', keys.instancesOfClientIndex(b.client.id, '', '').GSI2PK),
    byIndex('GSI1', keys.notificationsOfClientIndex(b.client.id, '', '').GSI1PK),
    byIndex('GSI1', keys.instancesOfAgentIndex(b.agent.agentId, '', '').GSI1PK),
  ]);
  const canonicalValue = (v: unknown) => (v instanceof Set ? [...(v as Set<unknown>)].sort() : v);
  // The polls' marks on the live item ("nothing changed since", README "Access patterns") are a
  // memo of what a read found, not data: a read may store them.
  const data = (k: string) => !POLL_MARKS.has(k);
  const canonical = parts
    .flat()
    .map((item) => JSON.stringify(Object.keys(item).filter(data).sort().map((k) => [k, canonicalValue(item[k])])))
    .sort();
  return createHash('sha256').update(canonical.join('\n')).digest('hex');
}

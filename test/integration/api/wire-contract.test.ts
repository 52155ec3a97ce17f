/**
 * The AGENT WIRE CONTRACT (API.md: 18 routes, 19 calls — GET replicas is polled with ?status=launching
 * and ?status=terminated), field for field. Every route is driven end to end through its group
 * Lambda with payloads shaped like the deployed v4.0.0 agent's (nulls for absent optional values,
 * the customer's documented payloads from seeds/002, unknown extra fields), and every answer is
 * checked against the table below: the top-level keys API.md lists for that route, written out
 * from API.md so that a missing key fails (values may be null, API.md §1.2).
 */
import { pendingCommand } from '../../support/commands.js';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ROUTE_TABLE } from '../../../functions/route-table.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { replicasRepo } from '../../../functions/shared/db/replicas-repo.js';
import type { Command } from '../../../functions/shared/domain/types.js';
import { registerAgentInProcess } from '../../support/agents.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess, randomInstanceId } from '../../support/factories.js';
import { type ApiResponse, invoke } from '../../support/http.js';
import { configure, replicasOf, seedPool, setupAgent, type TestAgent, uniqueInstanceType } from '../../support/interruption.js';

type Json = Record<string, unknown>;
type ErrorBody = { error: { code: string } };

// --- The contract, from API.md -------------------------------------------------------------------

/** §4.5: the AgentConfig fields (also the top level of GET config). */
const CONFIG_KEYS = [
  'enabled', 'auto_switch_enabled', 'auto_terminate_enabled', 'terminate_wait_seconds', 'manual_replica_enabled',
  'replica_enabled', 'replica_count', 'min_savings_percent', 'risk_threshold', 'max_switches_per_week',
  'max_switches_per_day', 'min_pool_duration_hours', 'config_version',
];

/** §3.0 Agent, including the fields describing its current PRIMARY. */
const AGENT_KEYS = [
  'id', 'client_id', 'logical_agent_id', 'hostname', 'agent_version', 'status', 'enabled', 'last_heartbeat_at',
  'notice_status', 'notice_deadline', 'config', 'created_at', 'deleted_at', 'version',
  'instance_id', 'instance_type', 'region', 'az', 'current_mode', 'current_pool_id', 'private_ip', 'public_ip',
];

/** §3.0 Replica (the agent reads id, pool_id+az or pool.id+pool.az, instance_id, is_active, status, type). */
const REPLICA_KEYS = [
  'id', 'agent_id', 'instance_id', 'type', 'status', 'is_active', 'sync_status', 'sync_latency_ms',
  'state_transfer_progress', 'pool_id', 'az', 'instance_type', 'pool', 'cost', 'parent_instance_id', 'error_message',
  'created_at', 'terminated_at', 'termination_confirmed', 'version',
];

/** §3.5: each pending-commands item carries exactly these fields. */
const PENDING_COMMAND_KEYS = [
  'id', 'command_type', 'target_mode', 'target_pool_id', 'terminate_wait_seconds', 'priority', 'created_at',
  'instance_id', 'replica_id', 'trigger_type', 'expires_at',
];

/** Route → the top-level response keys API.md lists for it (`?` keys included: present, maybe null). */
const WIRE_KEYS = {
  'POST register': ['agent_id', 'client_id', 'logical_agent_id', 'created', 'instance_role', 'config', 'message'],
  'POST heartbeat': ['success', 'agent_id', 'status', 'config_version', 'server_time'],
  'GET agent': AGENT_KEYS,
  'GET config': CONFIG_KEYS,
  'POST commands/{cmd}/executed': ['success', 'command_id', 'status'],
  'GET replicas': ['replicas', 'total'],
  'POST replicas': ['success', 'replica_id', 'instance_id', 'pool', 'hourly_cost', 'status', 'message'],
  'PUT replicas/{rid}': ['success', 'replica_id', 'instance_id', 'status', 'version'],
  'POST replicas/{rid}/status': ['success', 'replica_id', 'status'],
  'POST create-emergency-replica': [
    'success', 'existing', 'replica_id', 'instance_id', 'replica_instance_id', 'pool', 'hourly_cost', 'status',
    'urgency', 'emergency_event_id', 'message', 'error', 'reason_code',
  ],
  'POST termination-imminent': [
    'success', 'message', 'error', 'action', 'new_instance_id', 'replica_id', 'failover_time_ms', 'emergency_event_id',
    'create_emergency_replica', 'target_pool_id', 'instructions',
  ],
  'POST rebalance-recommendation': [
    'success', 'action', 'risk_score', 'reason', 'target_pool_id', 'command_id', 'emergency_event_id',
  ],
  'GET instances-to-terminate': ['instances', 'auto_terminate_enabled', 'terminate_wait_seconds'],
  'POST pricing-report': ['success', 'report_id', 'pools_recorded'],
  'POST switch-report': ['success', 'switch_id', 'savings_impact', 'old_instance_status'],
  'POST termination-report': ['success', 'message', 'instance_id', 'status'],
  'POST cleanup-report': ['success', 'message', 'deleted_snapshots', 'deleted_amis', 'failed_count'],
} as const;

/** Each table entry's exact route (pending-commands answers a bare array: checked item by item). */
const WIRE_ROUTE_OF: Record<keyof typeof WIRE_KEYS, string> = {
  'POST register': 'POST /api/agents/register',
  'POST heartbeat': 'POST /api/agents/{aid}/heartbeat',
  'GET agent': 'GET /api/agents/{aid}',
  'GET config': 'GET /api/agents/{aid}/config',
  'POST commands/{cmd}/executed': 'POST /api/agents/{aid}/commands/{cmd}/executed',
  'GET replicas': 'GET /api/agents/{aid}/replicas',
  'POST replicas': 'POST /api/agents/{aid}/replicas',
  'PUT replicas/{rid}': 'PUT /api/agents/{aid}/replicas/{rid}',
  'POST replicas/{rid}/status': 'POST /api/agents/{aid}/replicas/{rid}/status',
  'POST create-emergency-replica': 'POST /api/agents/{aid}/create-emergency-replica',
  'POST termination-imminent': 'POST /api/agents/{aid}/termination-imminent',
  'POST rebalance-recommendation': 'POST /api/agents/{aid}/rebalance-recommendation',
  'GET instances-to-terminate': 'GET /api/agents/{aid}/instances-to-terminate',
  'POST pricing-report': 'POST /api/agents/{aid}/pricing-report',
  'POST switch-report': 'POST /api/agents/{aid}/switch-report',
  'POST termination-report': 'POST /api/agents/{aid}/termination-report',
  'POST cleanup-report': 'POST /api/agents/{aid}/cleanup-report',
};

/** Routes whose API.md answer includes `success: true` (the emergency pair may decline with false). */
const SUCCESS_TRUE = new Set<keyof typeof WIRE_KEYS>([
  'POST heartbeat', 'POST commands/{cmd}/executed', 'POST replicas', 'PUT replicas/{rid}', 'POST replicas/{rid}/status',
  'POST rebalance-recommendation', 'POST pricing-report', 'POST switch-report', 'POST termination-report',
  'POST cleanup-report',
]);

const REPLICA_POOL_KEYS = ['id', 'name', 'instance_type', 'region', 'az'];
const EMERGENCY_POOL_KEYS = ['id', 'az', 'instance_type'];
const TO_TERMINATE_KEYS = ['instance_id', 'instance_type', 'az', 'reason', 'seconds_waiting'];

function missingKeys(body: unknown, keys: readonly string[]): string[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [...keys];
  return keys.filter((k) => !(k in body));
}

/** Asserts the status and every key API.md lists for `route` (plus `success: true` where documented). */
function expectWire(route: keyof typeof WIRE_KEYS, res: ApiResponse, status = 200): Json {
  expect(res.status, `${route}: ${res.text}`).toBe(status);
  expect(missingKeys(res.json, WIRE_KEYS[route]), `${route} is missing keys`).toEqual([]);
  if (SUCCESS_TRUE.has(route)) expect((res.json as Json).success, route).toBe(true);
  return res.json as Json;
}

/** Fields the v4 agent (or a newer one) may send that the contract does not list: ignored (§1.2). */
const UNKNOWN = { agent_extra_field: 'ignored', telemetry: { cpu: 0.2 } };

// --- Calls as the agent makes them --------------------------------------------------------------

const path = (a: Pick<TestAgent, 'agentId'>, rest = '') => `/api/agents/${a.agentId}${rest}`;
const agentPost = (group: Parameters<typeof invoke>[0], a: TestAgent, rest: string, body: unknown) =>
  invoke<Json>(group, 'POST', path(a, rest), { token: a.token, body });
const agentGet = <T = Json>(group: Parameters<typeof invoke>[0], a: TestAgent, rest: string, query?: Json) =>
  invoke<T>(group, 'GET', path(a, rest), { token: a.token, ...(query ? { query: query as Record<string, string> } : {}) });

const queuedCommand = (a: TestAgent, priority: number, createdAt: Date, o: Partial<Command> = {}) =>
  pendingCommand(a, { priority, createdAt, ...o });

/** A manual-mode agent whose requested placeholder is out of the way (so POST replicas may create one). */
async function manualAgentWithoutReplica(): Promise<TestAgent> {
  const agent = await setupAgent();
  await seedPool(agent.instanceType, 'us-east-1c', 0.03, 0.1);
  await configure(agent.token, agent.agentId, { manual_replica_enabled: true });
  for (const r of await replicasOf(agent.agentId)) {
    if (r.is_active) await replicasRepo.save({ ...r, status: 'failed', is_active: false }, r.version);
  }
  return agent;
}

describe('AGENT WIRE CONTRACT, field for field (API.md §3.4–§3.10)', () => {
  it('the key table covers exactly the 18 routes the route table marks as wire', () => {
    const covered = [...Object.values(WIRE_ROUTE_OF), 'GET /api/agents/{aid}/pending-commands'].sort();
    const wire = ROUTE_TABLE.filter((r) => r.wire).map((r) => `${r.method} ${r.path}`).sort();
    expect(covered).toHaveLength(18);
    expect(covered).toEqual(wire);
  });

  it('register: a v4 payload with nulls is accepted; 201 new, 200 existing; every listed key', async () => {
    const { client, token } = await createClientInProcess();
    const instanceId = randomInstanceId();
    const payload = {
      client_token: null,
      logical_agent_id: `logical-${randomUUID()}`,
      instance_id: instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: 'us-east-1a',
      hostname: 'ip-10-0-0-12',
      ami_id: null,
      agent_version: '4.0.0',
      mode: 'unknown', // treated as ondemand (§1.2)
      private_ip: '10.0.0.12',
      public_ip: null, // no public IP: the agent sends None
      ...UNKNOWN,
    };
    const first = await invoke('agents', 'POST', '/api/agents/register', { token, body: payload });
    const created = expectWire('POST register', first, 201);
    expect(created).toMatchObject({ client_id: client.id, logical_agent_id: payload.logical_agent_id, created: true, instance_role: 'PRIMARY' });
    expect(typeof created.agent_id).toBe('string');
    expect(missingKeys(created.config, CONFIG_KEYS)).toEqual([]);
    expect((created.config as Json).enabled).toBe(true);

    // Same logical id again (agent restart): the same agent, 200. The token may come in the body only.
    const again = await invoke('agents', 'POST', '/api/agents/register', { body: { ...payload, client_token: token } });
    const reused = expectWire('POST register', again, 200);
    expect(reused).toMatchObject({ agent_id: created.agent_id, created: false });

    // A missing required field is a 400 with a body. path, never a silent default.
    const bad = await invoke<ErrorBody>('agents', 'POST', '/api/agents/register', { token, body: { ...payload, instance_id: undefined } });
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('VALIDATION_ERROR');
  });

  it('heartbeat: the agent payload (with nulls and extra fields) → success, agent_id, status, config_version, server_time', async () => {
    const agent = await setupAgent();
    const online = await agentPost('agents', agent, '/heartbeat', {
      status: 'online',
      monitored_instances: [agent.instanceId],
      instance_id: agent.instanceId,
      instance_type: agent.instanceType,
      mode: 'spot',
      az: agent.az,
      ...UNKNOWN,
    });
    const body = expectWire('POST heartbeat', online);
    expect(body).toMatchObject({ agent_id: agent.agentId, status: 'online' });
    expect(Number.isInteger(body.config_version)).toBe(true);
    expect(Number.isNaN(Date.parse(String(body.server_time)))).toBe(false);

    // Only `status` is required; the optional fields may all be null.
    const minimal = await agentPost('agents', agent, '/heartbeat', {
      status: 'online', monitored_instances: null, instance_id: null, instance_type: null, mode: null, az: null,
    });
    expectWire('POST heartbeat', minimal);

    // At shutdown.
    const offline = await agentPost('agents', agent, '/heartbeat', { status: 'offline', instance_id: agent.instanceId });
    expect(expectWire('POST heartbeat', offline).status).toBe('offline');
  });

  it('GET agent and GET config: every Agent / §4.5 key; auth failures are 401, never 404', async () => {
    const agent = await setupAgent();
    const got = expectWire('GET agent', await agentGet('agents', agent, ''));
    expect(got).toMatchObject({ id: agent.agentId, client_id: agent.clientId, instance_id: agent.instanceId, az: agent.az, current_mode: 'spot' });
    expect(missingKeys(got.config, CONFIG_KEYS)).toEqual([]);

    const config = expectWire('GET config', await agentGet('agents', agent, '/config'));
    expect(config).toMatchObject({ enabled: true, replica_enabled: config.manual_replica_enabled });

    // The agent uninstalls itself on a 404 from GET agent: a token problem must never look like one.
    const unknownToken = await invoke<ErrorBody>('agents', 'GET', path(agent), { token: `no-such-token-${randomUUID()}` });
    expect(unknownToken.status).toBe(401);
    expect(unknownToken.json.error.code).toBe('UNAUTHORIZED');
    const noToken = await invoke<ErrorBody>('agents', 'GET', path(agent));
    expect(noToken.status).toBe(401);
    const revoked = await createClientInProcess();
    const other = await registerAgentInProcess(revoked.token);
    const del = await invoke('clients', 'DELETE', `/api/admin/clients/${revoked.client.id}`, { token: TEST_ADMIN_TOKEN });
    expect(del.status).toBe(200);
    const afterRevoke = await invoke<ErrorBody>('agents', 'GET', `/api/agents/${other.agentId}`, { token: revoked.token });
    expect(afterRevoke.status).toBe(401);
    // The admin token may act for any client.
    expect((await invoke('agents', 'GET', path(agent), { token: TEST_ADMIN_TOKEN })).status).toBe(200);
  });

  it('a deleted agent gets 404 on heartbeat, config, pending-commands and GET agent; replica routes keep working', async () => {
    const agent = await setupAgent();
    const del = await invoke<Json>('agents', 'DELETE', `/api/client/agents/${agent.agentId}`, { token: agent.token });
    expect(del.status).toBe(200);
    const calls = [
      agentPost('agents', agent, '/heartbeat', { status: 'online', instance_id: agent.instanceId }),
      agentGet('agents', agent, '/config'),
      agentGet('commands', agent, '/pending-commands'),
      agentGet('agents', agent, ''),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status, res.text).toBe(404);
      expect(['AGENT_DELETED', 'NOT_FOUND']).toContain((res.json as unknown as ErrorBody).error.code);
    }
    // 24 h of grace so the agent can clean up its replicas first (§3.4).
    expectWire('GET replicas', await agentGet('replicas', agent, '/replicas', { status: 'terminated' }));
    // A never-existing agent is 404 too.
    const ghost = await invoke('agents', 'GET', `/api/agents/${randomUUID()}`, { token: agent.token });
    expect(ghost.status).toBe(404);
  });

  it('pending-commands: a bare array (≤ 20), priority desc then oldest, exactly the listed fields; executed answers', async () => {
    const agent = await setupAgent();
    const t0 = Date.now() - 60_000;
    const low = queuedCommand(agent, 25, new Date(t0));
    const manualOld = queuedCommand(agent, 75, new Date(t0 + 1_000), { target_mode: 'spot', target_pool_id: `${agent.instanceType}.us-east-1b` });
    const manualNew = queuedCommand(agent, 75, new Date(t0 + 2_000));
    const filler = Array.from({ length: 20 }, (_, i) => queuedCommand(agent, 10, new Date(t0 + 3_000 + i), { trigger_type: 'scheduled' }));
    for (const c of [manualNew, low, ...filler, manualOld]) await commandsRepo.create(c);

    const res = await agentGet<Json[]>('commands', agent, '/pending-commands');
    expect(res.status).toBe(200);
    expect(Array.isArray(res.json)).toBe(true);
    expect(res.json.length).toBeGreaterThan(0);
    expect(res.json.length).toBeLessThanOrEqual(20);
    expect(res.json.slice(0, 3).map((c) => c.id)).toEqual([manualOld.id, manualNew.id, low.id]);
    const priorities = res.json.map((c) => Number(c.priority));
    expect(priorities).toEqual([...priorities].sort((a, b) => b - a));
    for (const item of res.json) expect(Object.keys(item).sort()).toEqual([...PENDING_COMMAND_KEYS].sort());
    expect(res.json[0]).toMatchObject({
      command_type: 'switch',
      target_mode: 'spot',
      target_pool_id: manualOld.target_pool_id,
      terminate_wait_seconds: 300,
      priority: 75,
      instance_id: agent.instanceId,
      replica_id: null,
      trigger_type: 'manual',
    });
    // Only the first moved to acknowledged; while it is in flight the agent gets [].
    expect((await commandsRepo.get(agent.agentId, manualOld.id))?.status).toBe('acknowledged');
    expect((await commandsRepo.get(agent.agentId, manualNew.id))?.status).toBe('pending');
    const inFlight = await agentGet<Json[]>('commands', agent, '/pending-commands');
    expect(inFlight.status).toBe(200);
    expect(inFlight.json).toEqual([]);

    // executed, as the agent reports it (message and execution_result optional; null accepted).
    const executed = await agentPost('commands', agent, `/commands/${manualOld.id}/executed`, {
      success: true,
      message: 'switched to spot in us-east-1b',
      execution_result: { new_instance_id: randomInstanceId(), duration_seconds: 94 },
      ...UNKNOWN,
    });
    expect(expectWire('POST commands/{cmd}/executed', executed)).toMatchObject({ command_id: manualOld.id, status: 'completed' });
    // Repeating the same result is 200; changing it is 409 INVALID_TRANSITION.
    const repeat = await agentPost('commands', agent, `/commands/${manualOld.id}/executed`, { success: true, message: null, execution_result: null });
    expectWire('POST commands/{cmd}/executed', repeat);
    const changed = await agentPost('commands', agent, `/commands/${manualOld.id}/executed`, { success: false });
    expect(changed.status).toBe(409);
    expect((changed.json as unknown as ErrorBody).error.code).toBe('INVALID_TRANSITION');
  });

  it('replicas: POST (nulls → defaults, 201), both GET polls, PUT (attach), status; every listed key', async () => {
    const agent = await manualAgentWithoutReplica();
    const created = await agentPost('replicas', agent, '/replicas', {
      instance_id: null,
      replica_type: null, // default manual
      parent_instance_id: null,
      pool_id: null, // default: cheapest safe pool in another AZ
      status: null, // default launching
      exclude_zones: null,
      tags: null,
      ...UNKNOWN,
    });
    const body = expectWire('POST replicas', created, 201);
    expect(missingKeys(body.pool, REPLICA_POOL_KEYS)).toEqual([]);
    expect(body).toMatchObject({ status: 'launching', pool: { id: `${agent.instanceType}.us-east-1c`, az: 'us-east-1c' } });
    expect(String(body.instance_id)).toMatch(/^replica-[0-9a-f]{8}$/);
    const replicaId = String(body.replica_id);

    // Poll 1 of 2: ?status=launching → the placeholder to launch.
    const launching = expectWire('GET replicas', await agentGet('replicas', agent, '/replicas', { status: 'launching' }));
    const listed = launching.replicas as Json[];
    expect(listed.map((r) => r.id)).toEqual([replicaId]);
    expect(launching.total).toBe(1);
    expect(missingKeys(listed[0], REPLICA_KEYS)).toEqual([]);
    expect(missingKeys(listed[0]?.pool, REPLICA_POOL_KEYS)).toEqual([]);
    expect(listed[0]).toMatchObject({ type: 'manual', is_active: true, status: 'launching', az: 'us-east-1c' });

    // The agent launched it: PUT with status null (default syncing) and version null.
    const ec2Id = randomInstanceId();
    const attached = await invoke<Json>('replicas', 'PUT', path(agent, `/replicas/${replicaId}`), {
      token: agent.token,
      body: { instance_id: ec2Id, status: null, version: null, ...UNKNOWN },
    });
    expect(expectWire('PUT replicas/{rid}', attached)).toMatchObject({ replica_id: replicaId, instance_id: ec2Id, status: 'syncing' });

    const ready = await agentPost('replicas', agent, `/replicas/${replicaId}/status`, {
      status: 'ready',
      sync_started_at: new Date(Date.now() - 30_000).toISOString(),
      sync_completed_at: new Date().toISOString(),
      error_message: null,
      is_active: true,
      terminated_at: null,
      ...UNKNOWN,
    });
    expect(expectWire('POST replicas/{rid}/status', ready)).toMatchObject({ replica_id: replicaId, status: 'ready' });

    // Poll 2 of 2: ?status=terminated → terminations not yet confirmed; the agent confirms them.
    const del = await invoke('replicas', 'DELETE', path(agent, `/replicas/${replicaId}`), { token: agent.token });
    expect(del.status).toBe(200);
    const terminated = expectWire('GET replicas', await agentGet('replicas', agent, '/replicas', { status: 'terminated' }));
    expect((terminated.replicas as Json[]).map((r) => r.id)).toEqual([replicaId]);
    expect(missingKeys((terminated.replicas as Json[])[0], REPLICA_KEYS)).toEqual([]);
    const confirmed = await agentPost('replicas', agent, `/replicas/${replicaId}/status`, {
      status: 'terminated', is_active: false, terminated_at: new Date().toISOString(),
    });
    expect(expectWire('POST replicas/{rid}/status', confirmed).status).toBe('terminated');
    const after = expectWire('GET replicas', await agentGet('replicas', agent, '/replicas', { status: 'terminated' }));
    expect(after).toMatchObject({ replicas: [], total: 0 });
  });

  it('create-emergency-replica: 201 created / 200 existing / 200 decline, each with every listed key', async () => {
    const agent = await setupAgent();
    await seedPool(agent.instanceType, 'us-east-1b', 0.02, 0.1);
    const res = await agentPost('emergency', agent, '/create-emergency-replica', {
      signal_type: 'termination-notice',
      instance_id: agent.instanceId,
      termination_time: null,
      pool_id: null,
      exclude_zones: null,
      ...UNKNOWN,
    });
    const created = expectWire('POST create-emergency-replica', res, 201);
    expect(created).toMatchObject({ success: true, existing: false, status: 'launching', urgency: 'critical', error: null, reason_code: null });
    expect(created.replica_instance_id).toBe(created.instance_id); // the agent reads replica_instance_id
    expect(missingKeys(created.pool, EMERGENCY_POOL_KEYS)).toEqual([]);
    expect(typeof created.emergency_event_id).toBe('string');

    const again = await agentPost('emergency', agent, '/create-emergency-replica', {
      signal_type: 'termination-notice', instance_id: agent.instanceId,
    });
    expect(expectWire('POST create-emergency-replica', again, 200)).toMatchObject({ existing: true, replica_id: created.replica_id });

    // A decline: 200 with success: false, error and reason_code.
    const off = await setupAgent({ config: { auto_switch_enabled: false } });
    const declined = await agentPost('emergency', off, '/create-emergency-replica', {
      signal_type: 'rebalance-recommendation', instance_id: off.instanceId, termination_time: null,
    });
    const decline = expectWire('POST create-emergency-replica', declined, 200);
    expect(decline).toMatchObject({ success: false, reason_code: 'AUTO_SWITCH_DISABLED', replica_id: null, replica_instance_id: null, urgency: 'high' });
    expect(typeof decline.error).toBe('string');
  });

  it("create-emergency-replica with parent_instance_id: the customer's documented payload (replica_type \"emergency\") registers the replica", async () => {
    const agent = await setupAgent();
    const replicaInstance = randomInstanceId();
    const pool = `${agent.instanceType}.us-east-1b`;
    // seeds/002 §7, verbatim apart from the ids.
    const res = await agentPost('emergency', agent, '/create-emergency-replica', {
      instance_id: replicaInstance,
      replica_type: 'emergency',
      parent_instance_id: agent.instanceId,
      pool_id: pool,
      status: 'ready',
    });
    const body = expectWire('POST create-emergency-replica', res, 201);
    expect(body).toMatchObject({ success: true, existing: false, instance_id: replicaInstance, replica_instance_id: replicaInstance, status: 'ready', pool: { id: pool, az: 'us-east-1b' } });
    const replica = await replicasRepo.get(agent.agentId, String(body.replica_id));
    expect(replica?.type).toMatch(/^automatic-/);
    expect((await instancesRepo.get(replicaInstance))?.role).toBe('REPLICA');
  });

  it('termination-imminent: the documented payload (time/notice_time aliases) → every listed key', async () => {
    const agent = await setupAgent();
    const deadline = new Date(Date.now() + 120_000);
    // seeds/002 §1: instance_id, action, time, detected_at.
    const res = await agentPost('emergency', agent, '/termination-imminent', {
      instance_id: agent.instanceId,
      action: 'terminate',
      time: deadline.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      detected_at: new Date().toISOString(),
      replica_id: null,
      ...UNKNOWN,
    });
    const body = expectWire('POST termination-imminent', res);
    expect(['replica_promoted', 'awaiting_replica', 'no_replica', 'not_primary']).toContain(body.action);
    expect(typeof body.emergency_event_id).toBe('string');
    expect(typeof body.create_emergency_replica).toBe('boolean');
    expect(body.success).toBe(false); // no replica: the agent must keep running
    expect(typeof body.error).toBe('string');
    const got = await agentGet('agents', agent, '');
    expect(got.json).toMatchObject({ notice_status: 'termination', notice_deadline: new Date(deadline.toISOString().replace(/\.\d{3}Z$/, 'Z')).toISOString() });

    // `notice_time` is the other alias of termination_time; every optional field may be null.
    const second = await setupAgent();
    const noticeTime = new Date(Date.now() + 90_000).toISOString();
    const aliased = await agentPost('emergency', second, '/termination-imminent', {
      instance_id: second.instanceId, termination_time: null, time: null, notice_time: noticeTime, detected_at: null, action: null,
    });
    expectWire('POST termination-imminent', aliased);
    expect((await agentGet('agents', second, '')).json).toMatchObject({ notice_status: 'termination', notice_deadline: noticeTime });

    // Not this agent's PRIMARY: success true (the agent stops itself), error null.
    const foreign = await agentPost('emergency', second, '/termination-imminent', { instance_id: randomInstanceId() });
    expect(expectWire('POST termination-imminent', foreign)).toMatchObject({ success: true, action: 'not_primary', error: null });
  });

  it('rebalance-recommendation: detected_at or notice_time → every listed key (target_pool_id/command_id null when monitoring)', async () => {
    const agent = await setupAgent({ config: { auto_switch_enabled: false } });
    const res = await agentPost('emergency', agent, '/rebalance-recommendation', {
      instance_id: agent.instanceId, detected_at: new Date().toISOString(), ...UNKNOWN,
    });
    const body = expectWire('POST rebalance-recommendation', res);
    expect(body).toMatchObject({ action: 'monitor', target_pool_id: null, command_id: null });
    expect(typeof body.reason).toBe('string');
    expect(typeof body.emergency_event_id).toBe('string');
    expect((await agentGet('agents', agent, '')).json).toMatchObject({ notice_status: 'rebalance' });

    const other = await setupAgent({ config: { auto_switch_enabled: false } });
    const aliased = await agentPost('emergency', other, '/rebalance-recommendation', {
      instance_id: null, detected_at: null, notice_time: new Date().toISOString(),
    });
    expectWire('POST rebalance-recommendation', aliased);
  });

  it('pricing-report → switch-report (alternative keys) → instances-to-terminate → termination-report', async () => {
    const instanceType = uniqueInstanceType();
    const agent = await setupAgent({ instanceType });
    const poolA = `${instanceType}.us-east-1a`;
    const poolB = `${instanceType}.us-east-1b`;

    const pricing = await agentPost('reporting', agent, '/pricing-report', {
      instance: { instance_id: agent.instanceId, instance_type: instanceType, region: 'us-east-1', az: 'us-east-1a', mode: 'spot', pool_id: poolA },
      pricing: {
        on_demand_price: 0.0416,
        current_spot_price: 0.0125,
        cheapest_pool: { pool_id: poolB, price: 0.0118 },
        spot_pools: [
          { pool_id: poolA, instance_type: instanceType, az: 'us-east-1a', price: 0.0125 },
          { pool_id: poolB, instance_type: instanceType, az: 'us-east-1b', price: 0.0118 },
        ],
        collected_at: new Date().toISOString(),
      },
      ...UNKNOWN,
    });
    expect(expectWire('POST pricing-report', pricing)).toMatchObject({ pools_recorded: 2 });
    // pool_id, both prices and cheapest_pool may be null (an on-demand instance, no price yet).
    const nulls = await agentPost('reporting', agent, '/pricing-report', {
      instance: { instance_id: agent.instanceId, instance_type: instanceType, region: 'us-east-1', az: 'us-east-1a', mode: 'ondemand', pool_id: null },
      pricing: {
        on_demand_price: null,
        current_spot_price: null,
        cheapest_pool: null,
        spot_pools: [],
        collected_at: new Date(Date.now() - 1000).toISOString(),
      },
    });
    expect(expectWire('POST pricing-report', nulls)).toMatchObject({ pools_recorded: 0 });

    // A delivered switch, then the agent's switch-report in the [alternative] keys.
    const command = queuedCommand(agent, 75, new Date(Date.now() - 5_000), { target_mode: 'spot', target_pool_id: poolB });
    await commandsRepo.create(command);
    expect((await agentGet<Json[]>('commands', agent, '/pending-commands')).json[0]?.id).toBe(command.id);
    const newId = randomInstanceId();
    const ready = Date.now() - 30_000;
    const side = (id: string, az: string) => ({
      instance_id: id, instance_type: instanceType, region: 'us-east-1', az, ami_id: null, mode: 'spot', pool_id: `${instanceType}.${az}`,
    });
    const switched = await agentPost('reporting', agent, '/switch-report', {
      old_instance: side(agent.instanceId, 'us-east-1a'),
      new_instance: side(newId, 'us-east-1b'),
      snapshot: { used: true, snapshot_id: 'snap-0123456789abcdef0' },
      pricing: { on_demand: 0.0416, old_spot: 0.0125, new_spot: 0.0118 },
      timing: {
        initiated_at: new Date(ready - 180_000).toISOString(),
        instance_launched_at: new Date(ready - 90_000).toISOString(),
        instance_ready_at: new Date(ready).toISOString(),
        traffic_switched_at: new Date(ready + 5_000).toISOString(),
        old_terminated_at: null,
      },
      trigger: 'manual',
      command_id: command.id,
      ...UNKNOWN,
    });
    const report = expectWire('POST switch-report', switched);
    expect(report).toMatchObject({ old_instance_status: 'zombie' });
    expect(Number(report.savings_impact)).toBeCloseTo(0.0007, 9);
    const executed = await agentPost('commands', agent, `/commands/${command.id}/executed`, { success: true, message: null });
    expectWire('POST commands/{cmd}/executed', executed);

    // The old PRIMARY is a ZOMBIE; once it has waited terminate_wait_seconds it is listed.
    const zombie = await instancesRepo.get(agent.instanceId);
    expect(zombie?.role).toBe('ZOMBIE');
    await instancesRepo.update(agent.instanceId, { set: { zombie_since: new Date(Date.now() - 3_600_000).toISOString() } });
    const toTerminate = expectWire('GET instances-to-terminate', await agentGet('emergency', agent, '/instances-to-terminate'));
    expect(toTerminate).toMatchObject({ auto_terminate_enabled: true, terminate_wait_seconds: 300 });
    const instances = toTerminate.instances as Json[];
    expect(instances.map((i) => i.instance_id)).toEqual([agent.instanceId]);
    expect(missingKeys(instances[0], TO_TERMINATE_KEYS)).toEqual([]);
    expect(instances[0]).toMatchObject({ instance_type: instanceType, az: 'us-east-1a', reason: 'zombie_timeout' });

    const failed = await agentPost('reporting', agent, '/termination-report', {
      instance_id: agent.instanceId, success: false, error: 'UnauthorizedOperation', terminated_at: null,
    });
    expectWire('POST termination-report', failed);
    const done = await agentPost('reporting', agent, '/termination-report', {
      instance_id: agent.instanceId, success: true, error: null, terminated_at: new Date().toISOString(), ...UNKNOWN,
    });
    expect(expectWire('POST termination-report', done)).toMatchObject({ instance_id: agent.instanceId, status: 'terminated' });
    expect(await instancesRepo.get(agent.instanceId)).toMatchObject({ role: 'TERMINATED', termination_confirmed: true });
  });

  it('switch-report in the agent keys: old_instance_terminated_at set → old_instance_status terminated', async () => {
    const instanceType = uniqueInstanceType();
    const agent = await setupAgent({ instanceType });
    const newId = randomInstanceId();
    const ready = Date.now() - 20_000;
    const res = await agentPost('reporting', agent, '/switch-report', {
      old_instance: { instance_id: agent.instanceId, instance_type: instanceType, region: 'us-east-1', az: 'us-east-1a', ami_id: 'ami-0abc', mode: 'spot', pool_id: `${instanceType}.us-east-1a` },
      new_instance: { instance_id: newId, instance_type: instanceType, region: 'us-east-1', az: 'us-east-1a', ami_id: 'ami-0abc', mode: 'ondemand', pool_id: null },
      snapshot: null,
      prices: { on_demand: 0.0416, old_spot: 0.0125, new_spot: null },
      timing: {
        switch_initiated_at: new Date(ready - 120_000).toISOString(),
        new_instance_launched_at: new Date(ready - 60_000).toISOString(),
        new_instance_ready_at: new Date(ready).toISOString(),
        traffic_switched_at: new Date(ready + 3_000).toISOString(),
        old_instance_terminated_at: new Date(ready + 10_000).toISOString(),
      },
      trigger: 'model',
      command_id: null,
    });
    expect(expectWire('POST switch-report', res)).toMatchObject({ old_instance_status: 'terminated' });
  });

  it('cleanup-report: the documented payload with id lists → counts; failed steps and counts accepted too', async () => {
    const agent = await setupAgent();
    // seeds/002 §3, plus a failure entry.
    const res = await agentPost('reporting', agent, '/cleanup-report', {
      timestamp: new Date().toISOString(),
      snapshots: {
        type: 'snapshots',
        deleted: ['snap-123', 'snap-456'],
        failed: [{ id: 'snap-789', error: 'InvalidSnapshot.InUse' }],
        cutoff_date: '2024-01-08T12:00:00Z',
      },
      amis: {
        type: 'amis',
        deleted_amis: ['ami-123'],
        deleted_snapshots: ['snap-789'],
        failed: [],
        cutoff_date: '2023-12-16T12:00:00Z',
      },
      ...UNKNOWN,
    });
    expect(expectWire('POST cleanup-report', res)).toMatchObject({ deleted_snapshots: 3, deleted_amis: 1, failed_count: 1 });

    // A failed cleanup step: no cutoff_date, an error string; counts instead of lists.
    const partial = await agentPost('reporting', agent, '/cleanup-report', {
      timestamp: new Date(Date.now() - 3_600_000).toISOString(),
      snapshots: { type: 'snapshots', deleted: [], failed: [], cutoff_date: null, error: 'AccessDenied' },
      amis: { type: 'amis', deleted_amis: 2, deleted_snapshots: 2, failed: 0, cutoff_date: '2023-12-16T12:00:00Z', error: null },
    });
    expect(expectWire('POST cleanup-report', partial)).toMatchObject({ deleted_snapshots: 2, deleted_amis: 2, failed_count: 0 });
  });
});

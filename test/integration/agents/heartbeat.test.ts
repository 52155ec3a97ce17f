/**
 * The heartbeat (API.md §3.4) as README "Access patterns" and the §4.4 invariant describe it: its common case is one
 * conditional write of the agent's live item after the token lookup (1 write unit, no index); an
 * agent without a PRIMARY stays in `error` whatever a late heartbeat says; a heartbeat naming an
 * instance that is not the agent's writes nothing to it.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { addDbHook } from '../../../functions/shared/db/client.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { getItem } from '../../../functions/shared/db/conditions.js';
import { instancesRepo } from '../../../functions/shared/db/instances-repo.js';
import { keys } from '../../../functions/shared/db/keys.js';
import { instanceStateChange } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { launchedReplica, sendEvent, setupAgent, type TestAgent } from '../../support/interruption.js';

interface Recorded {
  command: string;
  consumed: { Table?: { CapacityUnits?: number }; GlobalSecondaryIndexes?: Record<string, unknown> } | undefined;
}

const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

/** Every DynamoDB call of `fn`, with the capacity it consumed (table and indexes). */
async function recorded<T>(fn: () => Promise<T>): Promise<{ result: T; calls: Recorded[] }> {
  const calls: Recorded[] = [];
  removers.push(
    addDbHook(`heartbeat-test-${randomUUID()}`, async (call, send) => {
      const output = await send({ ...call.input, ReturnConsumedCapacity: 'INDEXES' });
      const consumed = output.ConsumedCapacity as Recorded['consumed'] | Recorded['consumed'][] | undefined;
      calls.push({ command: call.command, consumed: Array.isArray(consumed) ? consumed[0] : consumed });
      return output;
    }),
  );
  try {
    return { result: await fn(), calls };
  } finally {
    removers.pop()?.();
  }
}

const heartbeat = (agent: Pick<TestAgent, 'agentId' | 'token'>, body: Record<string, unknown>) =>
  invoke<{ status: string; config_version: number }>('agents', 'POST', `/api/agents/${agent.agentId}/heartbeat`, { token: agent.token, body });

const v4Heartbeat = (agent: TestAgent, status = 'online') => ({
  status,
  instance_id: agent.instanceId,
  instance_type: agent.instanceType,
  mode: 'spot',
  az: agent.az,
});

describe('the common heartbeat', () => {
  it('is one conditional write after the token lookup: 1 write unit on the table, no index', async () => {
    const agent = await setupAgent();
    expect((await heartbeat(agent, v4Heartbeat(agent))).status).toBe(200); // the first one may sync the live item
    const before = await agentsRepo.get(agent.agentId);

    const { result, calls } = await recorded(() => heartbeat(agent, v4Heartbeat(agent)));
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({ status: 'online', config_version: 1 });
    expect(calls.map((c) => c.command)).toEqual(['GetItemCommand', 'UpdateItemCommand']);
    const write = calls[1]?.consumed;
    expect(write?.Table?.CapacityUnits).toBe(1);
    expect(write?.GlobalSecondaryIndexes ?? {}).toEqual({});

    const after = await agentsRepo.get(agent.agentId);
    expect(after?.last_heartbeat_at && before?.last_heartbeat_at && after.last_heartbeat_at >= before.last_heartbeat_at).toBe(true);
    // The agent item (and so every index entry of it) is untouched: same version, same fields.
    const { last_heartbeat_at: _a, ...restAfter } = after ?? {};
    const { last_heartbeat_at: _b, ...restBefore } = before ?? {};
    expect(restAfter).toEqual(restBefore);
  });

  it('a change (status, placement) takes the slow path and is written to the agent and its live item', async () => {
    const agent = await setupAgent();
    const off = await heartbeat(agent, v4Heartbeat(agent, 'offline'));
    expect(off.json.status).toBe('offline');
    expect((await agentsRepo.get(agent.agentId))?.status).toBe('offline');
    // Back online, in another AZ: both written; the fast path then holds for the new values.
    const moved = { ...v4Heartbeat(agent), az: 'us-east-1b' };
    expect((await heartbeat(agent, moved)).json.status).toBe('online');
    expect(await agentsRepo.get(agent.agentId)).toMatchObject({ status: 'online', az: 'us-east-1b' });
    const { calls } = await recorded(() => heartbeat(agent, moved));
    expect(calls.map((c) => c.command)).toEqual(['GetItemCommand', 'UpdateItemCommand']);
  });

  it('an agent stored before the live item existed is served by the slow path, which creates it', async () => {
    const agent = await setupAgent();
    // As an agent of the previous layout: no live item.
    const { DeleteCommand } = await import('@aws-sdk/lib-dynamodb');
    const { ddb, tableName } = await import('../../../functions/shared/db/client.js');
    await ddb.send(new DeleteCommand({ TableName: tableName(), Key: keys.agentLive(agent.agentId) }));
    expect((await heartbeat(agent, v4Heartbeat(agent))).json.status).toBe('online');
    const live = await getItem(keys.agentLive(agent.agentId));
    expect(live).toMatchObject({ client_id: agent.clientId, primary_instance_id: agent.instanceId });
    const { calls } = await recorded(() => heartbeat(agent, v4Heartbeat(agent)));
    expect(calls.map((c) => c.command)).toEqual(['GetItemCommand', 'UpdateItemCommand']);
  });
});

describe('an agent whose PRIMARY was reclaimed (API.md §4.4: no PRIMARY only in error)', () => {
  it('stays in error when a late offline or online heartbeat of its old PRIMARY arrives', async () => {
    const agent = await setupAgent();
    await sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'terminated' }));
    expect(await agentsRepo.get(agent.agentId)).toMatchObject({ status: 'error', primary_instance_id: null });

    for (const status of ['offline', 'online', 'switching', 'disabled'] as const) {
      const res = await heartbeat(agent, v4Heartbeat(agent, status));
      expect(res.status).toBe(200);
      expect(res.json.status).toBe('error');
      expect(await agentsRepo.get(agent.agentId)).toMatchObject({ status: 'error', primary_instance_id: null });
    }
    // Without an instance id too.
    expect((await heartbeat(agent, { status: 'online' })).json.status).toBe('error');
    expect((await agentsRepo.get(agent.agentId))?.status).toBe('error');
  });

  it('under the race (termination and heartbeats at once), never ends with a status other than error and no PRIMARY', async () => {
    for (let round = 0; round < 6; round++) {
      const agent = await setupAgent();
      const beat = (i: number) => heartbeat(agent, v4Heartbeat(agent, i % 2 === 0 ? 'online' : 'offline'));
      const beats = Array.from({ length: 4 }, (_, i) => () => beat(i));
      const results = await Promise.all([
        sendEvent(instanceStateChange({ instanceId: agent.instanceId, state: 'terminated' })),
        ...beats.map((beat) => beat()),
      ]);
      for (const r of results.slice(1) as Awaited<ReturnType<typeof heartbeat>>[]) expect(r.status).toBe(200);
      // Late heartbeats after the termination.
      await heartbeat(agent, v4Heartbeat(agent, 'online'));
      await heartbeat(agent, v4Heartbeat(agent, 'offline'));
      const final = await agentsRepo.get(agent.agentId);
      expect(final, `round ${round}`).toMatchObject({ status: 'error', primary_instance_id: null });
      // The live item agrees with the agent: the next heartbeat cannot pass its fast path.
      expect(await getItem(keys.agentLive(agent.agentId))).toMatchObject({ status: 'error', primary_instance_id: null });
      expect((await heartbeat(agent, v4Heartbeat(agent, 'online'))).json.status).toBe('error');
    }
  });
});

describe('a heartbeat naming an instance that is not the PRIMARY', () => {
  it("updates its own replica's last_seen_at, and never writes another client's instance", async () => {
    const agent = await setupAgent();
    const replica = await launchedReplica(agent, 'syncing');
    const lastSeen = async () =>
      (await instancesRepo.listByClient(agent.clientId, 50, undefined)).items.find((i) => i.id === replica.instanceId)?.last_seen_at;
    const seenBefore = await lastSeen();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const res = await heartbeat(agent, { ...v4Heartbeat(agent), instance_id: replica.instanceId });
    expect(res.json.status).toBe('online');
    const seenAfter = await lastSeen();
    expect(seenAfter && seenBefore && seenAfter > seenBefore).toBe(true);

    // Client B's PRIMARY named in client A's agent's heartbeat: B's instance and its telemetry untouched.
    const other = await setupAgent();
    const itemBefore = await getItem(keys.instance(other.instanceId));
    const liveBefore = await getItem(keys.instanceLive(other.instanceId));
    const cross = await heartbeat(agent, { ...v4Heartbeat(agent), instance_id: other.instanceId });
    expect(cross.status).toBe(200);
    expect(await getItem(keys.instance(other.instanceId))).toEqual(itemBefore);
    expect(await getItem(keys.instanceLive(other.instanceId))).toEqual(liveBefore);
    // Nor does A's agent change: it is not the PRIMARY that sent it.
    expect((await agentsRepo.get(agent.agentId))?.primary_instance_id).toBe(agent.instanceId);
  });
});

/**
 * The v4 agent's polls (pending-commands every 15 s, config every 60 s, replicas ?status=launching
 * and ?status=terminated every 30 s) where nothing changed cost the token lookup and ONE read of
 * 1 unit: the agent and its live item by one strongly consistent Query, whose marks answer "nothing
 * pending" (README "Access patterns"). Anything queued or changed after a mark is seen at once.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { addDbHook } from '../../../functions/shared/db/client.js';
import type { GroupName } from '../../../functions/shared/http/route.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import { pendingCommand } from '../../support/commands.js';
import { invoke } from '../../support/http.js';
import { configure, pendingCommands, setupAgent } from '../../support/interruption.js';

interface Call {
  command: string;
  units: number;
  indexes: string[];
}
const removers: (() => void)[] = [];
afterEach(() => {
  for (const remove of removers.splice(0)) remove();
});

async function recorded<T>(fn: () => Promise<T>): Promise<{ result: T; calls: Call[] }> {
  const calls: Call[] = [];
  const remove = addDbHook(`polls-test-${randomUUID()}`, async (call, send) => {
    const output = await send({ ...call.input, ReturnConsumedCapacity: 'INDEXES' });
    const c = output.ConsumedCapacity as { CapacityUnits?: number; GlobalSecondaryIndexes?: Record<string, unknown> } | undefined;
    calls.push({ command: call.command, units: c?.CapacityUnits ?? 0, indexes: Object.keys(c?.GlobalSecondaryIndexes ?? {}) });
    return output;
  });
  removers.push(remove);
  try {
    return { result: await fn(), calls };
  } finally {
    remove();
  }
}

const POLLS = [
  ['commands', '/pending-commands'],
  ['agents', '/config'],
  ['replicas', '/replicas?status=launching'],
  ['replicas', '/replicas?status=terminated'],
] as const;

const poll = (group: GroupName, agent: { agentId: string; token: string }, suffix: string) => {
  const [path, query] = suffix.split('?');
  return invoke<unknown>(group, 'GET', `/api/agents/${agent.agentId}${path}`, {
    token: agent.token,
    ...(query ? { query: Object.fromEntries(new URLSearchParams(query)) } : {}),
  });
};

describe('agent polls where nothing changed', () => {
  it.each(POLLS)('%s %s: the token lookup and one 1-unit Query of the agent and its live item', async (group, suffix) => {
    const agent = await setupAgent();
    expect((await poll(group, agent, suffix)).status).toBe(200); // the first poll may leave its mark
    const { result, calls } = await recorded(() => poll(group, agent, suffix));
    expect(result.status).toBe(200);
    expect(calls.map((c) => c.command)).toEqual(['GetItemCommand', 'QueryCommand']);
    const read = calls[1] as Call;
    expect(read.units).toBe(1);
    expect(read.indexes).toEqual([]);
  });
});

describe('what changed after a mark is seen by the next poll', () => {
  it('a command queued after a poll found nothing is delivered by the next poll', async () => {
    const agent = await setupAgent();
    expect(await pendingCommands(agent)).toEqual([]);
    expect(await pendingCommands(agent)).toEqual([]);
    const command = pendingCommand({ agentId: agent.agentId, clientId: agent.clientId, instanceId: agent.instanceId });
    expect(await commandsRepo.create(command)).toBe(true);
    expect((await pendingCommands(agent)).map((c) => c.id)).toEqual([command.id]);
  });

  it('a command the agent cannot run (v5-only) keeps the v4 poll quiet, and a v5 agent still gets it', async () => {
    const agent = await setupAgent();
    const zombieCommand = pendingCommand(
      { agentId: agent.agentId, clientId: agent.clientId, instanceId: agent.instanceId },
      { command_type: 'terminate_instance' },
    );
    await commandsRepo.create(zombieCommand);
    expect(await pendingCommands(agent)).toEqual([]); // reads, finds nothing deliverable, remembers it
    const { calls } = await recorded(() => pendingCommands(agent));
    expect(calls.map((c) => c.command)).toEqual(['GetItemCommand', 'QueryCommand']);
    // The mark names the agent's major version: after an upgrade to v5 the command is delivered.
    const { agentsRepo } = await import('../../../functions/shared/db/agents-repo.js');
    await agentsRepo.update(agent.agentId, { set: { agent_version: '5.0.0' } });
    expect((await pendingCommands(agent)).map((c) => c.id)).toEqual([zombieCommand.id]);
  });

  it('a replica placeholder and a termination after a "nothing" answer are listed by the next polls, and counted by config', async () => {
    const agent = await setupAgent();
    const launching = () => poll('replicas', agent, '/replicas?status=launching') as Promise<{ json: { replicas: { id: string }[] } }>;
    const terminated = () => poll('replicas', agent, '/replicas?status=terminated') as Promise<{ json: { replicas: { id: string }[] } }>;
    const config = () => poll('agents', agent, '/config') as Promise<{ json: { replica_count: number } }>;
    expect((await launching()).json.replicas).toEqual([]);
    expect((await terminated()).json.replicas).toEqual([]);
    expect((await config()).json.replica_count).toBe(0);

    // Manual-replica mode on: the config change requests a placeholder in its transaction.
    await configure(agent.token, agent.agentId, { manual_replica_enabled: true });
    const placeholders = (await launching()).json.replicas;
    expect(placeholders).toHaveLength(1);
    expect((await config()).json.replica_count).toBe(1);

    // Off again: the replica is terminated (unconfirmed) in the same transaction.
    await configure(agent.token, agent.agentId, { manual_replica_enabled: false });
    expect((await launching()).json.replicas).toEqual([]);
    expect((await terminated()).json.replicas.map((r) => r.id)).toEqual(placeholders.map((r) => r.id));
    expect((await config()).json.replica_count).toBe(0);
  });
});

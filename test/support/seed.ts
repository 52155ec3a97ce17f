/**
 * Seeds resources for the dashboard/admin and safety tests: clients and agents through the real
 * routes (register), and the resources whose creating routes belong to other groups (replicas,
 * commands, notifications) directly through their repositories, so the tests do not depend on
 * those routes being implemented.
 */
import { pendingCommand } from './commands.js';
import { randomUUID } from 'node:crypto';
import { commandsRepo } from '../../functions/shared/db/commands-repo.js';
import { replicasRepo } from '../../functions/shared/db/replicas-repo.js';
import { transact } from '../../functions/shared/db/transaction.js';
import { addSeconds } from '../../functions/shared/domain/commands.js';
import { dedupeId } from '../../functions/shared/domain/notifications.js';
import type { Command, Replica } from '../../functions/shared/domain/types.js';
import { notify } from '../../functions/shared/notify.js';
import { type CreatedClient, createClientInProcess, randomInstanceId } from './factories.js';
import { invoke } from './http.js';

export interface RegisteredAgent {
  agentId: string;
  instanceId: string;
  hostname: string;
  logicalAgentId: string;
}

/** Registers an agent (and its PRIMARY) with the client's token. */
export async function registerAgent(
  token: string,
  o: { hostname?: string; logicalAgentId?: string; instanceId?: string; agentVersion?: string; az?: string; mode?: 'spot' | 'ondemand' } = {},
): Promise<RegisteredAgent> {
  const hostname = o.hostname ?? `host-${randomUUID().slice(0, 8)}`;
  const logicalAgentId = o.logicalAgentId ?? `logical-${randomUUID()}`;
  const instanceId = o.instanceId ?? randomInstanceId();
  const res = await invoke<{ agent_id: string }>('agents', 'POST', '/api/agents/register', {
    token,
    body: {
      logical_agent_id: logicalAgentId,
      instance_id: instanceId,
      instance_type: 't3.medium',
      region: 'us-east-1',
      az: o.az ?? 'us-east-1a',
      hostname,
      mode: o.mode ?? 'spot',
      agent_version: o.agentVersion ?? '4.0.0',
    },
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`register failed: ${res.status} ${res.text}`);
  return { agentId: res.json.agent_id, instanceId, hostname, logicalAgentId };
}

/** A manual replica placeholder of an agent, written through the replicas repository. */
export async function seedReplica(clientId: string, agentId: string, at = new Date()): Promise<Replica> {
  const replica: Replica = {
    id: randomUUID(),
    agent_id: agentId,
    client_id: clientId,
    instance_id: `replica-${randomUUID().slice(0, 8)}`,
    type: 'manual',
    status: 'launching',
    is_active: true,
    sync_status: null,
    sync_latency_ms: null,
    state_transfer_progress: null,
    pool_id: 't3.medium.us-east-1b',
    az: 'us-east-1b',
    instance_type: 't3.medium',
    region: 'us-east-1',
    hourly_cost: 0.0125,
    parent_instance_id: null,
    error_message: null,
    created_at: at.toISOString(),
    launched_at: null,
    terminated_at: null,
    termination_confirmed: false,
    emergency_event_id: null,
    version: 1,
  };
  await transact([replicasRepo.createTx(replica)]);
  return replica;
}

/** A pending switch command of an agent, written through the commands repository. */
export async function seedCommand(clientId: string, agentId: string, instanceId: string, at = new Date()): Promise<Command> {
  const command = pendingCommand(
    { agentId, clientId, instanceId },
    { createdAt: at, reason: 'seed', expires_at: addSeconds(at, 3600) },
  );
  await commandsRepo.create(command);
  return command;
}

/** A notification of a client (dedupe key makes its id known), through notify(). */
export async function seedNotification(clientId: string | null, o: { severity?: 'info' | 'warning' | 'error' | 'critical'; type?: string; at?: Date; agentId?: string } = {}) {
  const dedupeKey = `test:${randomUUID()}`;
  await notify({
    clientId,
    type: o.type ?? 'test_event',
    severity: o.severity ?? 'info',
    message: `seeded for ${clientId ?? 'system'}`,
    agentId: o.agentId ?? null,
    dedupeKey,
    now: o.at ?? new Date(),
  });
  return dedupeId(dedupeKey);
}

export interface Tenant {
  client: CreatedClient;
  token: string;
  agent: RegisteredAgent;
}

/** A client with one registered agent. */
export async function tenant(overrides: { name?: string } = {}): Promise<Tenant> {
  const { client, token } = await createClientInProcess(overrides.name ? { name: overrides.name } : {});
  const agent = await registerAgent(token);
  return { client, token, agent };
}

/**
 * Helpers for the interruption-handling tests (API.md §3.7, §5): agents with replicas in a known state,
 * pools with known risk and price, the real ec2-events handler, and a DynamoDB call recorder.
 */
import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { createLambdaContext } from '../../bin/support/local-gateway.js';
import { handler as ec2EventsHandler } from '../../functions/ec2-events/handler.js';
import { EventInProgressError, type EventSummary } from '../../functions/ec2-events/service.js';
import { ddb, tableName } from '../../functions/shared/db/client.js';
import { commandsRepo } from '../../functions/shared/db/commands-repo.js';
import { incidentsRepo } from '../../functions/shared/db/incidents-repo.js';
import { instancesRepo } from '../../functions/shared/db/instances-repo.js';
import { keys } from '../../functions/shared/db/keys.js';
import { notificationsRepo } from '../../functions/shared/db/notifications-repo.js';
import { replicasRepo } from '../../functions/shared/db/replicas-repo.js';
import { registerAgentInProcess } from './agents.js';
import { createClientInProcess, randomInstanceId } from './factories.js';
import { invoke } from './http.js';

export const REGION = 'us-east-1';

/** A fresh instance type per test, so pools seeded by one test never affect another. */
export const uniqueInstanceType = (): string => `t${Math.floor(Math.random() * 1e9)}.large`;

/** Writes a POOL item with known price and risk (what the pricing pipeline and pool-risk job maintain). */
export async function seedPool(
  instanceType: string,
  az: string,
  price: number,
  risk: number | null,
  onDemand = 0.1,
): Promise<string> {
  const poolId = `${instanceType}.${az}`;
  await ddb.send(
    new PutCommand({
      TableName: tableName(),
      Item: {
        ...keys.pool(poolId),
        ...keys.poolsOfTypeIndex(REGION, instanceType, poolId),
        ...keys.allPoolsIndex(REGION, poolId),
        entity: 'pool',
        pool_id: poolId,
        instance_type: instanceType,
        region: REGION,
        az,
        price,
        priced_at: new Date().toISOString(),
        on_demand_price: onDemand,
        risk_score: risk,
        stats_at: new Date().toISOString(),
      },
    }),
  );
  return poolId;
}

export interface TestAgent {
  agentId: string;
  instanceId: string;
  token: string;
  clientId: string;
  instanceType: string;
  az: string;
}

/** A client with one registered spot agent (in `az`, of a fresh instance type), optionally configured. */
export async function setupAgent(
  options: {
    config?: Record<string, unknown>;
    instanceType?: string;
    az?: string;
    token?: string;
    clientId?: string;
    awsAccountIds?: string[];
  } = {},
): Promise<TestAgent> {
  const client = options.token
    ? { token: options.token, client: { id: options.clientId as string } }
    : await createClientInProcess({ max_agents: 200, ...(options.awsAccountIds ? { aws_account_ids: options.awsAccountIds } : {}) });
  const instanceType = options.instanceType ?? uniqueInstanceType();
  const az = options.az ?? 'us-east-1a';
  const reg = await registerAgentInProcess(client.token, { instance_type: instanceType, az, mode: 'spot' });
  if (options.config) await configure(client.token, reg.agentId, options.config);
  return { agentId: reg.agentId, instanceId: reg.instanceId, token: client.token, clientId: client.client.id, instanceType, az };
}

export async function configure(token: string, agentId: string, body: Record<string, unknown>) {
  const res = await invoke('agents', 'POST', `/api/client/agents/${agentId}/config`, { token, body });
  if (res.status !== 200) throw new Error(`config update failed: ${res.status} ${res.text}`);
  return res.json as Record<string, unknown>;
}

/**
 * A launched replica through the agent's own calls: POST replicas (placeholder) or the
 * create-emergency-replica parent path, then PUT (instance id) and status `ready` when asked.
 */
export async function launchedReplica(
  agent: TestAgent,
  status: 'syncing' | 'ready',
  options: { pool?: string; type?: 'manual' | 'automatic-rebalance' | 'automatic-termination' } = {},
): Promise<{ replicaId: string; instanceId: string }> {
  const instanceId = randomInstanceId();
  const pool = options.pool ?? `${agent.instanceType}.us-east-1c`;
  const res = await invoke<{ replica_id: string }>('emergency', 'POST', `/api/agents/${agent.agentId}/create-emergency-replica`, {
    token: agent.token,
    body: {
      instance_id: instanceId,
      parent_instance_id: agent.instanceId,
      pool_id: pool,
      replica_type: options.type ?? 'automatic-termination',
      status,
    },
  });
  if (res.status !== 201) throw new Error(`replica registration failed: ${res.status} ${res.text}`);
  return { replicaId: res.json.replica_id, instanceId };
}

/**
 * Calls the real ec2-events Lambda handler (middy + Powertools) with one event. A delivery that
 * finds the same event still being processed fails, and EventBridge delivers it again later: so
 * does this (after a short pause instead of a minute).
 */
export async function sendEvent(event: unknown): Promise<EventSummary> {
  for (let attempt = 0; ; attempt++) {
    try {
      return (await ec2EventsHandler(event, createLambdaContext('spot-optimizer-ec2-events') as Context)) as EventSummary;
    } catch (err) {
      if (!(err instanceof EventInProgressError) || attempt >= 100) throw err;
      await new Promise((r) => setTimeout(r, 30));
    }
  }
}

/** Every DynamoDB command the shared DocumentClient sends while `fn` runs (name + table writes). */
export async function recordDynamoCalls<T>(fn: () => Promise<T>): Promise<{ result: T; calls: string[] }> {
  const calls: string[] = [];
  const name = `recorder-${randomUUID()}`;
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName ?? 'unknown'));
      return next(args);
    },
    { step: 'initialize', name },
  );
  try {
    return { result: await fn(), calls };
  } finally {
    ddb.middlewareStack.remove(name);
  }
}

/** Low-level command names (the DocumentClient hands its marshalled commands to DynamoDBClient). */
export const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

/** The agent's incidents (via the per-agent index), newest first. */
export async function incidentsOf(agentId: string) {
  return incidentsRepo.listByAgent(agentId);
}

export async function commandsOf(agentId: string) {
  return commandsRepo.listByAgent(agentId);
}

export async function notificationsOf(clientId: string, agentId: string) {
  return (await notificationsRepo.list(clientId, 200)).items.filter((n) => n.agent_id === agentId);
}

export async function instancesOf(agentId: string) {
  return instancesRepo.listByAgent(agentId);
}

export async function replicasOf(agentId: string) {
  return replicasRepo.listByAgent(agentId);
}

/** Polls pending-commands as the agent does; returns the bare array. */
export async function pendingCommands(agent: Pick<TestAgent, 'agentId' | 'token'>) {
  const res = await invoke<Record<string, unknown>[]>('commands', 'GET', `/api/agents/${agent.agentId}/pending-commands`, {
    token: agent.token,
  });
  if (res.status !== 200) throw new Error(`pending-commands failed: ${res.status} ${res.text}`);
  return res.json;
}

/** Shuffles in place (Fisher–Yates) and returns the array. */
export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

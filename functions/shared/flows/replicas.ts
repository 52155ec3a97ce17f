/**
 * Replica records shared by the agent's config changes, the replica and emergency routes, the
 * interruption flows and the replica-reconciler: placeholders in the pool chosen for a replica,
 * and the instance item a launched replica runs on.
 */
import { instancesRepo } from '../db/instances-repo.js';
import { replicasRepo } from '../db/replicas-repo.js';
import type { TxPart } from '../db/transaction.js';
import { ConflictError } from '../domain/errors.js';
import { newId, replicaPlaceholderId } from '../domain/ids.js';
import { replicaInstanceRecord } from '../domain/instances.js';
import type { Agent, Instance, Replica } from '../domain/types.js';
import { chooseReplicaPool } from '../placement.js';

/** A `launching` placeholder the agent will launch (it polls replicas?status=launching), in another AZ. */
export async function placeholderReplica(agent: Agent, type: Replica['type'], at: string, excludeAzs: string[] = []): Promise<Replica> {
  const pool =
    agent.region && agent.instance_type
      ? await chooseReplicaPool({
          region: agent.region,
          instanceType: agent.instance_type,
          currentPoolId: agent.current_pool_id,
          excludeAzs: [...excludeAzs, ...(agent.az ? [agent.az] : [])],
          excludePoolIds: agent.current_pool_id ? [agent.current_pool_id] : [],
        })
      : null;
  return {
    id: newId(),
    agent_id: agent.id,
    client_id: agent.client_id,
    instance_id: replicaPlaceholderId(),
    type,
    status: 'launching',
    is_active: true,
    sync_status: null,
    sync_latency_ms: null,
    state_transfer_progress: null,
    pool_id: pool?.pool_id ?? null,
    az: pool?.az ?? null,
    instance_type: pool?.instance_type ?? agent.instance_type,
    region: pool?.region ?? agent.region,
    hourly_cost: pool?.price ?? null,
    parent_instance_id: agent.primary_instance_id,
    error_message: null,
    created_at: at,
    launched_at: null,
    terminated_at: null,
    termination_confirmed: false,
    emergency_event_id: null,
    version: 1,
  };
}

/**
 * The transaction part creating a replica's instance (none when this replica already owns it).
 * An instance that belongs to something else is 409 ALREADY_EXISTS.
 */
export async function replicaInstanceTx(agent: Agent, replica: Replica, instanceId: string, at: string): Promise<TxPart[]> {
  const existing = await instancesRepo.get(instanceId);
  if (existing) {
    const owner = (existing as Instance & { replica_id?: string }).replica_id;
    if (existing.agent_id === agent.id && existing.role === 'REPLICA' && (owner === undefined || owner === replica.id)) return [];
    throw new ConflictError('ALREADY_EXISTS', `instance ${instanceId} is already registered (${existing.role})`);
  }
  return [instancesRepo.createTx(replicaInstanceRecord(agent, replica, instanceId, 'REPLICA', at), { replica_id: replica.id })];
}

/** The replica record an instance runs (through its `replica_id`, else by instance id). */
export async function replicaOfInstance(agentId: string, instance: Instance): Promise<Replica | undefined> {
  const rid = (instance as Instance & { replica_id?: string | null }).replica_id;
  if (rid) {
    const r = await replicasRepo.get(agentId, rid);
    if (r) return r;
  }
  return (await replicasRepo.listByAgent(agentId)).find((r) => r.instance_id === instance.id);
}

import { incidentsRepo } from '../shared/db/incidents-repo.js';
import { replicasRepo } from '../shared/db/replicas-repo.js';
import { transact } from '../shared/db/transaction.js';
import { parsePoolId } from '../shared/domain/ids.js';
import { FINAL_OUTCOMES } from '../shared/domain/incidents.js';
import { FINAL_REPLICA_STATUSES } from '../shared/domain/replicas.js';
import type { Agent, Replica, ReplicaStatus } from '../shared/domain/types.js';
import { onReplicaReady } from '../shared/flows/interruption/promotion.js';
import { placeholderReplica, replicaInstanceTx } from '../shared/flows/replicas.js';
import { emergencyReplicaDecline, emergencyReplicaReply } from './views.js';

/**
 * create-emergency-replica with `parent_instance_id`: the agent launched a replica itself and
 * registers it (`instance_id` is the replica). It joins the open termination incident, if any.
 */
export async function registerLaunchedReplica(
  agent: Agent,
  input: { instance_id: string; pool_id?: string | null; replica_type?: Replica['type'] | null; status?: ReplicaStatus | null; parent_instance_id?: string | null },
  now: Date,
) {
  const at = now.toISOString();
  const urgency = agent.notice_status === 'rebalance' ? ('high' as const) : ('critical' as const);
  const replicas = await replicasRepo.listByAgent(agent.id);
  const existing = replicas.find((r) => r.instance_id === input.instance_id);
  const reply = (r: Replica, existingFlag: boolean, incidentId: string | null, message: string) =>
    emergencyReplicaReply(r, { existing: existingFlag, urgency, emergencyEventId: incidentId, message });
  if (existing) return { status: 200, body: reply(existing, true, existing.emergency_event_id, 'this replica is already registered') };
  const parsed = parsePoolId(input.pool_id as string);
  if (agent.instance_type && parsed.instanceType !== agent.instance_type) {
    return { status: 200, body: emergencyReplicaDecline('NO_SUITABLE_POOL', `pool ${input.pool_id} is not of type ${agent.instance_type}`, null, urgency) };
  }
  const incident =
    agent.primary_instance_id && agent.notice_status === 'termination'
      ? await incidentsRepo.findBySignal(agent.primary_instance_id, 'termination')
      : undefined;
  const open = incident && !FINAL_OUTCOMES.has(incident.outcome) ? incident : undefined;
  const base = await placeholderReplica(agent, input.replica_type ?? 'automatic-termination', at);
  const status = input.status && !FINAL_REPLICA_STATUSES.has(input.status) && input.status !== 'launching' ? input.status : 'syncing';
  const replica: Replica = {
    ...base,
    instance_id: input.instance_id,
    pool_id: input.pool_id ?? null,
    az: parsed.az,
    instance_type: parsed.instanceType,
    region: parsed.region || agent.region,
    status,
    parent_instance_id: input.parent_instance_id ?? agent.primary_instance_id,
    launched_at: at,
    emergency_event_id: open?.id ?? null,
  };
  const instanceTx = await replicaInstanceTx(agent, replica, input.instance_id, at);
  await transact([
    replicasRepo.createTx(replica),
    ...instanceTx,
    ...(open && !open.awaiting_replica_id
      ? [incidentsRepo.resolveTx(open.id, { awaiting_replica_id: replica.id, replica_id: replica.id }, { firstHandling: false })]
      : []),
  ]);
  if (status === 'ready') await onReplicaReady(agent.id, replica.id, now);
  return { status: 201, body: reply(replica, false, open?.id ?? null, `replica ${replica.instance_id} registered`) };
}

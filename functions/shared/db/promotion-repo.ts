import { replicaInstanceRecord } from '../domain/instances.js';
import type { Agent, Instance, Replica } from '../domain/types.js';
import { agentsRepo } from './agents-repo.js';
import { instancesRepo } from './instances-repo.js';
import { replicasRepo } from './replicas-repo.js';
import { TransactionConflict, transact, type TxPart } from './transaction.js';

/** What becomes of the old PRIMARY when a replica is promoted (API.md §4.2). */
export type OldPrimaryOutcome =
  | { role: 'ZOMBIE' }
  | { role: 'REPLICA' }
  /** `confirmed`: EC2 already reported it gone; otherwise EC2 is taking it away and will confirm. */
  | { role: 'TERMINATED'; confirmed: boolean };

export interface PromotionPlan {
  agent: Agent;
  /** The replica as read (its version is checked). */
  replica: Replica;
  /** The replica's current status must be one of these (e.g. ['ready'] or ['ready', 'syncing']). */
  fromStatuses: Replica['status'][];
  /** The replica's instance item as read, or undefined when it has none yet (then it is created as PRIMARY). */
  replicaInstance: Instance | undefined;
  old: OldPrimaryOutcome;
  at: string;
  /** Parts that must commit with the promotion (incident resolution, command cancellations, a demoted replica record). */
  extra?: TxPart[];
  /** Extra agent attributes to set (e.g. notice_status back to none). */
  agentSet?: Record<string, unknown>;
}

export type PromotionFailure = 'replica-changed' | 'primary-changed' | 'instance-changed' | 'extra-failed';

export class PromotionConflict extends Error {
  constructor(
    readonly reason: PromotionFailure,
    options?: { cause?: unknown },
  ) {
    super(`promotion lost a race: ${reason}`, options);
    this.name = 'PromotionConflict';
  }
}

/** The instance the promoted replica becomes (created when the replica never got an instance item). */
export function promotedInstance(plan: Pick<PromotionPlan, 'agent' | 'replica' | 'replicaInstance' | 'at'>): Instance {
  const { agent, replica, replicaInstance, at } = plan;
  if (replicaInstance) return { ...replicaInstance, role: 'PRIMARY', zombie_since: null };
  return replicaInstanceRecord(agent, replica, replica.instance_id, 'PRIMARY', at);
}

/**
 * A replica becomes the PRIMARY in ONE TransactWriteItems:
 *  1. the replica → `promoted` (its version and status checked; it must have a real EC2 id);
 *  2. its instance REPLICA → PRIMARY (or created as PRIMARY), conditioned on still being this
 *     agent's REPLICA;
 *  3. the old PRIMARY → ZOMBIE / REPLICA / TERMINATED, conditioned on still being this agent's PRIMARY;
 *  4. the agent's `primary_instance_id` moved, conditioned on `primary_instance_id = :old`;
 *  5. the caller's extra items (incident resolution, cancellations).
 * Exactly one of any number of concurrent promotions of one agent commits: they all condition on
 * the same `primary_instance_id` and the first commit changes it.
 */
export async function promoteReplicaTx(plan: PromotionPlan): Promise<{ instance: Instance }> {
  const { agent, replica, at } = plan;
  const oldId = agent.primary_instance_id;
  const next = promotedInstance(plan);
  const promoted: Replica & { promoted_at: string } = { ...replica, status: 'promoted', is_active: false, promoted_at: at };
  const parts: TxPart[] = [
    // The status and launch checks ride on the replica's own condition.
    replicasRepo.saveTx(promoted, replica.version, { fromStatuses: plan.fromStatuses, instanceId: replica.instance_id }),
    plan.replicaInstance
      ? instancesRepo.changeRoleTx(next, 'PRIMARY', at, {
          expect: { role: 'REPLICA', agentId: agent.id },
          set: { notice_status: 'none', last_seen_at: at, zombie_since: null },
        }, 'new-primary')
      : instancesRepo.createTx(next, { replica_id: replica.id }, 'new-primary'),
    agentsRepo.movePrimaryTx(agent, next, { pool_since: at, ...(plan.agentSet ?? {}) }),
  ];
  if (oldId) parts.push(demoteOldPrimaryTx(agent.id, oldId, plan.old, at));
  parts.push(...(plan.extra ?? []));
  try {
    await transact(parts);
  } catch (err) {
    if (!(err instanceof TransactionConflict)) throw err;
    const reason: PromotionFailure = err.failedOn('replica')
      ? 'replica-changed'
      : err.failedOn('agent', 'old-primary')
        ? 'primary-changed'
        : err.failedOn('new-primary')
          ? 'instance-changed'
          : 'extra-failed';
    throw new PromotionConflict(reason, { cause: err });
  }
  return { instance: next };
}

/** The old PRIMARY's new role, conditioned on it still being this agent's PRIMARY. */
function demoteOldPrimaryTx(agentId: string, instanceId: string, old: OldPrimaryOutcome, at: string): TxPart {
  const set =
    old.role === 'ZOMBIE'
      ? { zombie_since: at }
      : old.role === 'TERMINATED'
        ? { terminated_at: at, termination_confirmed: old.confirmed }
        : {};
  return instancesRepo.changeRoleTx({ id: instanceId, agent_id: agentId }, old.role, at, { expect: { role: 'PRIMARY', agentId }, set }, 'old-primary');
}

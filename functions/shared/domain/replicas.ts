import type { Replica, ReplicaStatus } from './types.js';

/** Replica statuses that count as an active replica (API.md §4.2). */
export const ACTIVE_REPLICA_STATUSES: ReadonlySet<ReplicaStatus> = new Set(['launching', 'syncing', 'ready']);

export const isActiveReplica = (r: Pick<Replica, 'status'>): boolean => ACTIVE_REPLICA_STATUSES.has(r.status);

/** Placeholders carry a `replica-<8hex>` instance id until the agent attaches the EC2 instance. */
export const isPlaceholderId = (instanceId: string): boolean => instanceId.startsWith('replica-');

/** Statuses after which a replica never changes again (API.md §4.2). */
export const FINAL_REPLICA_STATUSES: ReadonlySet<ReplicaStatus> = new Set(['promoted', 'failed', 'terminated']);

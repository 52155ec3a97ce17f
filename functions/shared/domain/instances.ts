import type { Agent, Instance, InstanceRole, Mode, Replica } from './types.js';

/** API.md §6: terminated instances are kept 90 days. */
export const TERMINATED_RETENTION_DAYS = 90;

/** What identifies and places a new instance; everything else starts empty. */
export type NewInstanceFields = Pick<
  Instance,
  'id' | 'client_id' | 'agent_id' | 'instance_type' | 'region' | 'az' | 'mode' | 'pool_id' | 'role'
> &
  Partial<Instance>;

/** A new instance record (version 1, no prices, no notice) — the one place its defaults live. */
export function newInstance(fields: NewInstanceFields, at: string): Instance {
  return {
    spot_price: null,
    ondemand_price: null,
    baseline_ondemand_price: null,
    notice_status: 'none',
    last_seen_at: at,
    zombie_since: null,
    terminated_at: null,
    termination_confirmed: false,
    next_listing_at: null,
    ami_id: null,
    private_ip: null,
    public_ip: null,
    hostname: null,
    created_at: at,
    version: 1,
    ...fields,
  };
}

/** The instance a replica runs on once it has an EC2 id (REPLICA, or PRIMARY when promoted). */
export function replicaInstanceRecord(
  agent: Pick<Agent, 'id' | 'client_id' | 'instance_type' | 'region' | 'az'>,
  replica: Pick<Replica, 'instance_type' | 'region' | 'az' | 'pool_id' | 'hourly_cost'>,
  instanceId: string,
  role: InstanceRole,
  at: string,
): Instance {
  const mode: Mode = 'spot';
  return newInstance(
    {
      id: instanceId,
      client_id: agent.client_id,
      agent_id: agent.id,
      instance_type: replica.instance_type ?? agent.instance_type ?? 'unknown',
      region: replica.region ?? agent.region ?? 'unknown',
      az: replica.az ?? agent.az ?? 'unknown',
      mode,
      pool_id: replica.pool_id,
      role,
      spot_price: replica.hourly_cost,
    },
    at,
  );
}

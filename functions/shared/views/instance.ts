import { type Instance, LEGACY_INSTANCE_STATUS } from '../domain/types.js';

/**
 * The Instance resource (API.md §3.0). `is_active`: the instance serves or can take over traffic
 * (PRIMARY or REPLICA); a ZOMBIE still runs but serves nothing, a TERMINATED one is gone.
 */
export const instanceView = (i: Instance) => ({
  id: i.id,
  instance_id: i.id,
  client_id: i.client_id,
  agent_id: i.agent_id,
  instance_type: i.instance_type,
  region: i.region,
  az: i.az,
  mode: i.mode,
  pool_id: i.pool_id,
  role: i.role,
  instance_status: LEGACY_INSTANCE_STATUS[i.role],
  is_primary: i.role === 'PRIMARY',
  is_active: i.role === 'PRIMARY' || i.role === 'REPLICA',
  spot_price: i.spot_price ?? null,
  ondemand_price: i.ondemand_price ?? null,
  baseline_ondemand_price: i.baseline_ondemand_price ?? null,
  notice_status: i.notice_status ?? 'none',
  last_seen_at: i.last_seen_at ?? null,
  zombie_since: i.zombie_since ?? null,
  terminated_at: i.terminated_at ?? null,
  termination_confirmed: i.termination_confirmed ?? false,
  version: i.version,
  hostname: i.hostname ?? null,
  private_ip: i.private_ip ?? null,
  public_ip: i.public_ip ?? null,
  created_at: i.created_at,
});

/** The roles each `status` filter of GET /api/client/{cid}/instances selects (none = all). */
export const ROLES_BY_STATUS: Record<string, Instance['role'][] | undefined> = {
  active: ['PRIMARY', 'REPLICA'],
  primary: ['PRIMARY'],
  replica: ['REPLICA'],
  zombie: ['ZOMBIE'],
  terminated: ['TERMINATED'],
  all: undefined,
};

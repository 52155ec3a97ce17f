/**
 * Helpers for the decisions / switching / savings tests. Every tenant gets its own (made-up)
 * instance type, so the POOL items of one test (GSI1 `POOLS#<region>#<type>`) never mix with
 * another file's pools in the shared table.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { instancesRepo } from '../../functions/shared/db/instances-repo.js';
import { pricesRepo } from '../../functions/shared/db/prices-repo.js';
import { createClientInProcess, randomInstanceId } from './factories.js';
import { invoke } from './http.js';

export const REGION = 'us-east-1';

export interface TestTenant {
  clientId: string;
  token: string;
  instanceType: string;
  agentId: string;
  instanceId: string;
}

export const uniqueType = (): string => `zz${randomBytes(4).toString('hex')}.large`;
export const poolOf = (type: string, azLetter: string): string => `${type}.${REGION}${azLetter}`;

/** Registers an agent whose PRIMARY runs on `mode` in AZ `a` of the tenant's own instance type. */
export async function registerAgent(
  token: string,
  instanceType: string,
  o: { mode?: 'spot' | 'ondemand'; az?: string; instanceId?: string } = {},
): Promise<{ agentId: string; instanceId: string }> {
  const instanceId = o.instanceId ?? randomInstanceId();
  const res = await invoke<{ agent_id: string }>('agents', 'POST', '/api/agents/register', {
    token,
    body: {
      logical_agent_id: `logical-${randomUUID()}`,
      instance_id: instanceId,
      instance_type: instanceType,
      region: REGION,
      az: o.az ?? `${REGION}a`,
      hostname: `host-${randomUUID().slice(0, 8)}`,
      agent_version: '4.0.0',
      mode: o.mode ?? 'spot',
    },
  });
  expect(res.status, res.text).toBe(201);
  return { agentId: res.json.agent_id, instanceId };
}

export async function newTenant(o: { mode?: 'spot' | 'ondemand'; name?: string } = {}): Promise<TestTenant> {
  const { client, token } = await createClientInProcess(o.name ? { name: o.name } : {});
  const instanceType = uniqueType();
  const { agentId, instanceId } = await registerAgent(token, instanceType, { mode: o.mode ?? 'spot' });
  return { clientId: client.id, token, instanceType, agentId, instanceId };
}

/** A POOL item with a price (and optionally the pool-risk statistics). */
export async function seedPool(
  instanceType: string,
  azLetter: string,
  price: number,
  o: { onDemand?: number; pricedAt?: Date; risk?: number; volatility?: number; avg24h?: number } = {},
): Promise<string> {
  const poolId = poolOf(instanceType, azLetter);
  const at = (o.pricedAt ?? new Date()).toISOString();
  await pricesRepo.recordMarketPrice({
    pool_id: poolId,
    instance_type: instanceType,
    region: REGION,
    az: `${REGION}${azLetter}`,
    price,
    on_demand_price: o.onDemand ?? 0.1,
    priced_at: at,
    source: 'test',
  });
  if (o.risk !== undefined) {
    await pricesRepo.updatePoolStats(poolId, {
      risk_score: o.risk,
      volatility: o.volatility ?? 0.01,
      avg_price_24h: o.avg24h ?? price,
      price_stddev_24h: 0,
      interruptions_30d: 0,
      history_hours: 24,
      stats_at: at,
    });
  }
  return poolId;
}

/** The PRIMARY's reported prices (what pricing-report maintains). */
export async function setInstancePrices(instanceId: string, spot: number | null, onDemand: number): Promise<void> {
  await instancesRepo.update(instanceId, { set: { spot_price: spot, ondemand_price: onDemand, baseline_ondemand_price: onDemand } });
}

/** A switch-report body in the agent's own keys (API.md §3.10). */
export function switchReport(
  t: { instanceType: string },
  oldId: string,
  newId: string,
  o: {
    oldMode?: 'spot' | 'ondemand';
    newMode?: 'spot' | 'ondemand';
    oldAz?: string;
    newAz?: string;
    onDemand?: number;
    oldSpot?: number | null;
    newSpot?: number | null;
    readyAt?: Date;
    downtimeSeconds?: number;
    terminatedAt?: Date | null;
    trigger?: string;
    commandId?: string;
  } = {},
) {
  const ready = o.readyAt ?? new Date(Date.now() - 60_000);
  const oldMode = o.oldMode ?? 'spot';
  const newMode = o.newMode ?? 'spot';
  const oldAz = `${REGION}${o.oldAz ?? 'a'}`;
  const newAz = `${REGION}${o.newAz ?? 'b'}`;
  const side = (id: string, mode: string, az: string) => ({
    instance_id: id,
    instance_type: t.instanceType,
    region: REGION,
    az,
    ami_id: 'ami-0123456789abcdef0',
    mode,
    pool_id: mode === 'spot' ? `${t.instanceType}.${az}` : null,
  });
  return {
    old_instance: side(oldId, oldMode, oldAz),
    new_instance: side(newId, newMode, newAz),
    snapshot: { used: true },
    prices: {
      on_demand: o.onDemand ?? 0.1,
      old_spot: o.oldSpot === undefined ? 0.05 : o.oldSpot,
      new_spot: o.newSpot === undefined ? 0.03 : o.newSpot,
    },
    timing: {
      switch_initiated_at: new Date(ready.getTime() - 240_000).toISOString(),
      new_instance_launched_at: new Date(ready.getTime() - 120_000).toISOString(),
      new_instance_ready_at: ready.toISOString(),
      traffic_switched_at: new Date(ready.getTime() + (o.downtimeSeconds ?? 4) * 1000).toISOString(),
      ...(o.terminatedAt ? { old_instance_terminated_at: o.terminatedAt.toISOString() } : {}),
    },
    trigger: o.trigger ?? 'manual',
    ...(o.commandId ? { command_id: o.commandId } : {}),
  };
}

export type ErrorBody = { error: { code: string; message: string; details: { field: string; issue: string }[] } };

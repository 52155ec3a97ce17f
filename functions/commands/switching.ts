/**
 * The switch routes (API.md §3.5): issue-switch-command (automated, priority 10–50) and
 * force-switch (manual, priority 75), queued through shared/flows/switching.ts.
 */
import { instancesRepo } from '../shared/db/instances-repo.js';
import type { PoolItem } from '../shared/db/prices-repo.js';
import { MAX_PRICE_AGE_MS, PRIORITY } from '../shared/domain/commands.js';
import { NotFoundError, UnprocessableError, VersionConflictError } from '../shared/domain/errors.js';
import { parsePoolId } from '../shared/domain/ids.js';
import { rankPools, scorePools } from '../shared/domain/pool-ranking.js';
import { poolRiskScore } from '../shared/domain/risk.js';
import type { Agent, Caller, Mode } from '../shared/domain/types.js';
import { loadAgent } from '../shared/flows/agent-access.js';
import { buildSwitchCommand, queueSwitch, switchLimitReached } from '../shared/flows/switching.js';
import { assertOwner } from '../shared/http/auth.js';
import { poolsOfType } from '../shared/placement.js';

const createdBy = (caller: Caller): string => (caller.kind === 'admin' ? 'admin' : `client:${caller.clientId}`);
const disabled = (agent: Agent) => !agent.config.enabled || agent.status === 'disabled';

/** A target pool must be of the agent's instance type (and region): the agent changes only AZ and market. */
function assertPoolMatches(poolId: string, instanceType: string | null, region: string | null): void {
  const pool = parsePoolId(poolId);
  if (pool.instanceType !== instanceType || (region && pool.region !== region)) {
    throw new UnprocessableError('POOL_MISMATCH', `pool ${poolId} is not a ${instanceType ?? 'matching'} pool in ${region ?? 'this region'}`, [
      { field: 'body.target_pool_id', issue: 'instance type or region differs from the PRIMARY' },
    ]);
  }
}

export interface IssueSwitchInput {
  target_mode: Mode;
  target_pool_id?: string;
  priority: number;
  reason?: string;
}

/** POST /api/agents/{aid}/issue-switch-command (202 → Command). */
export async function issueSwitchCommand(caller: Caller, agentId: string, input: IssueSwitchInput, now: Date, idempotencyScope?: string) {
  const agent = await loadAgent(caller, agentId);
  if (disabled(agent)) throw new UnprocessableError('AGENT_DISABLED', 'the agent is disabled');
  if (!agent.config.auto_switch_enabled) throw new UnprocessableError('AUTO_SWITCH_DISABLED', 'auto-switch is off for this agent');
  if (!agent.primary_instance_id) throw new UnprocessableError('NOT_PRIMARY', 'the agent has no PRIMARY instance to switch');
  const targetPool = input.target_mode === 'spot' ? (input.target_pool_id ?? null) : null;
  if (targetPool) assertPoolMatches(targetPool, agent.instance_type, agent.region);
  if (
    (input.target_mode === 'ondemand' && agent.current_mode === 'ondemand') ||
    (input.target_mode === 'spot' && agent.current_mode === 'spot' && agent.current_pool_id === targetPool)
  ) {
    throw new UnprocessableError('ALREADY_IN_TARGET_STATE', 'the PRIMARY already runs there');
  }
  const limit = await switchLimitReached(agent, now);
  if (limit) throw new UnprocessableError('SWITCH_LIMIT_REACHED', limit);
  const command = buildSwitchCommand(
    agent,
    {
      target_mode: input.target_mode,
      target_pool_id: targetPool,
      priority: input.priority,
      trigger_type: input.priority <= PRIORITY.scheduled ? 'scheduled' : 'model',
      created_by: createdBy(caller),
      reason: input.reason ?? null,
    },
    now,
    idempotencyScope,
  );
  return (await queueSwitch(command, now, agent, idempotencyScope !== undefined)).command;
}

export interface ForceSwitchInput {
  target: 'ondemand' | 'spot' | 'pool';
  pool_id?: string;
  new_instance_type?: string;
  terminate_wait_seconds?: number;
  reason?: string;
  version?: number;
}

/** POST /api/client/instances/{iid}/force-switch (202 → Command): manual, priority 75, no limits. */
export async function forceSwitch(
  caller: Caller,
  instanceId: string,
  input: ForceSwitchInput,
  ifMatch: number | undefined,
  now: Date,
  idempotencyScope?: string,
) {
  const instance = await instancesRepo.get(instanceId);
  if (!instance) throw new NotFoundError('instance');
  assertOwner(caller, instance.client_id, 'instance');
  const agent = await loadAgent(caller, instance.agent_id);
  const expected = input.version ?? ifMatch;
  if (expected !== undefined && expected !== instance.version) throw new VersionConflictError(instance.version);
  if (instance.role !== 'PRIMARY' || agent.primary_instance_id !== instance.id) {
    throw new UnprocessableError('NOT_PRIMARY', `instance ${instance.id} is a ${instance.role}, not the PRIMARY`);
  }
  if (disabled(agent)) throw new UnprocessableError('AGENT_DISABLED', 'the agent is disabled');
  if (input.new_instance_type !== undefined && input.new_instance_type !== instance.instance_type) {
    throw new UnprocessableError('POOL_MISMATCH', 'the agent changes only the AZ and market, never the instance type', [
      { field: 'body.new_instance_type', issue: `must equal ${instance.instance_type}` },
    ]);
  }
  let targetMode: Mode;
  let targetPool: string | null = null;
  if (input.target === 'ondemand') {
    if (instance.mode === 'ondemand') throw new UnprocessableError('ALREADY_IN_TARGET_STATE', 'the PRIMARY already runs on-demand');
    targetMode = 'ondemand';
  } else if (input.target === 'pool') {
    targetPool = input.pool_id as string;
    assertPoolMatches(targetPool, instance.instance_type, instance.region);
    if (instance.mode === 'spot' && instance.pool_id === targetPool) {
      throw new UnprocessableError('ALREADY_IN_TARGET_STATE', `the PRIMARY already runs in ${targetPool}`);
    }
    targetMode = 'spot';
  } else {
    const od = instance.ondemand_price ?? instance.baseline_ondemand_price;
    // API.md §3.5: the cheapest pool with a fresh price within risk_threshold (a pool the pool-risk
    // job has not scored yet gets the §4.6 formula on its price), never above on-demand.
    const riskOf = (p: PoolItem) => {
      if (p.risk_score !== null && p.risk_score !== undefined) return p.risk_score;
      if (!od || !p.price) return null;
      return poolRiskScore({ interruptions_30d: p.interruptions_30d ?? 0, cv_24h: p.volatility ?? 0, spot: p.price, on_demand: od });
    };
    const pools = (await poolsOfType(instance.region, instance.instance_type)).map((p) => ({ ...p, risk_score: riskOf(p) }));
    const best = rankPools(scorePools(pools, { now: now.getTime(), undatedIsStale: true }), {
      order: 'best-value',
      requirePrice: true,
      maxPrice: od,
      maxPriceAgeSeconds: MAX_PRICE_AGE_MS / 1000,
      maxRisk: agent.config.risk_threshold,
    })[0]?.pool;
    if (!best) {
      throw new UnprocessableError('NO_SUITABLE_POOL', `no ${instance.instance_type} pool with a fresh price and risk ≤ ${agent.config.risk_threshold}`);
    }
    if (instance.mode === 'spot' && instance.pool_id === best.pool_id) {
      throw new UnprocessableError('ALREADY_IN_TARGET_STATE', `the PRIMARY already runs in the cheapest safe pool ${best.pool_id}`);
    }
    targetPool = best.pool_id;
    targetMode = 'spot';
  }
  const command = buildSwitchCommand(
    agent,
    {
      target_mode: targetMode,
      target_pool_id: targetPool,
      priority: PRIORITY.manual,
      trigger_type: 'manual',
      created_by: createdBy(caller),
      reason: input.reason ?? null,
      ...(input.terminate_wait_seconds !== undefined ? { terminate_wait_seconds: input.terminate_wait_seconds } : {}),
    },
    now,
    idempotencyScope,
  );
  return (await queueSwitch(command, now, agent, idempotencyScope !== undefined)).command;
}

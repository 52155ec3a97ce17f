/**
 * Queuing switch commands (API.md §3.5, §4.1, §4.4): issue-switch-command (automated, priority
 * 10–50), force-switch (manual, priority 75) and the auto-switch runner all go through
 * {@link queueSwitch}, which enforces "at most one command in flight and one switch open per agent"
 * with the agent's open-switch slot, written in the same transaction as the command.
 */
import { loadAgent } from '../agents/access.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import type { PoolItem } from '../shared/db/prices-repo.js';
import { switchesRepo } from '../shared/db/switches-repo.js';
import { addSeconds, FINAL_COMMAND_STATUSES, PRIORITY, pendingLifetimeSeconds } from '../shared/domain/commands.js';
import { ConflictError, NotFoundError, UnprocessableError, VersionConflictError } from '../shared/domain/errors.js';
import { newId, parsePoolId } from '../shared/domain/ids.js';
import { poolRiskScore } from '../shared/domain/risk.js';
import type { Agent, Caller, Command, Mode, TriggerType } from '../shared/domain/types.js';
import { publishEvent } from '../shared/feed.js';
import { assertOwner } from '../shared/http/auth.js';
import { MetricUnit, metrics } from '../shared/observability.js';
import { poolsOfType } from '../shared/placement.js';
import { MAX_PRICE_AGE_MS } from '../shared/domain/commands.js';

const inFlight = (message: string) => new ConflictError('COMMAND_IN_FLIGHT', message);

/** API.md §4.1 Switch details: 0 keeps the old instance (auto-terminate off), otherwise ≥ 1 s. */
export function terminateWaitSeconds(agent: Agent, requested?: number): number {
  if (requested !== undefined) return requested;
  if (!agent.config.auto_terminate_enabled) return 0;
  return Math.max(1, agent.config.terminate_wait_seconds);
}

export function buildSwitchCommand(
  agent: Agent,
  spec: {
    target_mode: Mode;
    target_pool_id: string | null;
    priority: number;
    trigger_type: TriggerType;
    created_by: string;
    reason: string | null;
    terminate_wait_seconds?: number;
  },
  now: Date,
): Command {
  const at = now.toISOString();
  return {
    id: newId(),
    agent_id: agent.id,
    client_id: agent.client_id,
    instance_id: agent.primary_instance_id,
    command_type: 'switch',
    target_mode: spec.target_mode,
    target_pool_id: spec.target_mode === 'spot' ? spec.target_pool_id : null,
    replica_id: null,
    terminate_wait_seconds: terminateWaitSeconds(agent, spec.terminate_wait_seconds),
    priority: spec.priority,
    status: 'pending',
    trigger_type: spec.trigger_type,
    created_by: spec.created_by,
    reason: spec.reason,
    created_at: at,
    delivered_at: null,
    completed_at: null,
    expires_at: addSeconds(at, pendingLifetimeSeconds(spec.trigger_type)),
    success: null,
    message: null,
    version: 1,
  };
}

/**
 * Queues `command` for its agent. A command in flight, or an open switch of equal or higher
 * priority, is 409 COMMAND_IN_FLIGHT; an open (still pending) switch of lower priority is
 * cancelled in the same transaction. The decision is re-made on a fresh read whenever the
 * conditional write loses a race, so of two concurrent callers exactly one wins. `loaded`: the agent
 * as the caller just read it (a consistent GetItem), used for the first attempt instead of a re-read.
 */
export async function queueSwitch(
  command: Command,
  now: Date,
  loaded?: Agent,
): Promise<{ command: Command; superseded: Command | null }> {
  const at = now.toISOString();
  for (let attempt = 0; attempt < 5; attempt++) {
    const agent = attempt === 0 && loaded ? loaded : await agentsRepo.get(command.agent_id);
    if (!agent || agent.status === 'deleted') throw new NotFoundError('agent', 'AGENT_DELETED');
    if (agent.inflight_command_id) throw inFlight('a command is in flight for this agent');
    let supersede: Command | null = null;
    const slot = agent.open_switch_id ?? null;
    if (slot) {
      const open = await commandsRepo.get(agent.id, slot);
      if (open && !FINAL_COMMAND_STATUSES.has(open.status)) {
        if (open.status !== 'pending') throw inFlight('a switch command is in flight for this agent');
        if (open.priority >= command.priority) {
          throw inFlight(`a switch of priority ${open.priority} is already open (command ${open.id})`);
        }
        supersede = open;
      }
      // Otherwise the slot names a finished (or vanished) command: it counts as empty.
    }
    if (await switchesRepo.openSwitch(command, slot, supersede, at)) {
      metrics.addMetric('SwitchQueued', MetricUnit.Count, 1);
      if (supersede) {
        await publishEvent({
          clientId: agent.client_id,
          type: 'command_status_changed',
          data: { agent_id: agent.id, command_id: supersede.id, command_type: 'switch', status: 'cancelled' },
          now,
        });
      }
      await publishEvent({
        clientId: agent.client_id,
        type: 'command_status_changed',
        data: { agent_id: agent.id, command_id: command.id, command_type: 'switch', status: 'pending', priority: command.priority },
        now,
      });
      return { command, superseded: supersede };
    }
  }
  throw inFlight('the agent kept changing while the switch was queued; retry');
}

/** Switches initiated in the last day / week against the agent's limits. */
export async function switchLimitReached(agent: Agent, now: Date): Promise<string | null> {
  const weekAgo = new Date(now.getTime() - 7 * 86_400_000).toISOString();
  const dayAgo = new Date(now.getTime() - 86_400_000).toISOString();
  const recent = await switchesRepo.listByAgent(agent.id, weekAgo);
  const day = recent.filter((s) => s.initiated_at >= dayAgo).length;
  if (day >= agent.config.max_switches_per_day) return `daily switch limit reached (${day}/${agent.config.max_switches_per_day})`;
  if (recent.length >= agent.config.max_switches_per_week) {
    return `weekly switch limit reached (${recent.length}/${agent.config.max_switches_per_week})`;
  }
  return null;
}

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
export async function issueSwitchCommand(caller: Caller, agentId: string, input: IssueSwitchInput, now: Date) {
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
  );
  return (await queueSwitch(command, now, agent)).command;
}

export interface ForceSwitchInput {
  target: 'ondemand' | 'spot' | 'pool';
  pool_id?: string;
  new_instance_type?: string;
  terminate_wait_seconds?: number;
  reason?: string;
  version?: number;
}

/** Price age limit for a spot target (API.md §4.6 candidates). */

/** POST /api/client/instances/{iid}/force-switch (202 → Command): manual, priority 75, no limits. */
export async function forceSwitch(caller: Caller, instanceId: string, input: ForceSwitchInput, ifMatch: number | undefined, now: Date) {
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
    // POOL items carry the pool-risk job's statistics besides the fields placement types.
    const pools = (await poolsOfType(instance.region, instance.instance_type)) as PoolItem[];
    const riskOf = (p: (typeof pools)[number]) =>
      typeof p.risk_score === 'number'
        ? p.risk_score
        : od && p.price
          ? poolRiskScore({
              interruptions_30d: typeof p.interruptions_30d === 'number' ? p.interruptions_30d : 0,
              cv_24h: typeof p.volatility === 'number' ? p.volatility : 0,
              spot: p.price,
              on_demand: od,
            })
          : 0;
    const best = pools
      .filter(
        (p) =>
          typeof p.price === 'number' &&
          p.price > 0 &&
          (od == null || p.price <= od) &&
          p.priced_at != null &&
          now.getTime() - Date.parse(p.priced_at) <= MAX_PRICE_AGE_MS &&
          riskOf(p) <= agent.config.risk_threshold,
      )
      .sort((a, b) => (a.price as number) - (b.price as number) || a.pool_id.localeCompare(b.pool_id))[0];
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
  );
  return (await queueSwitch(command, now, agent)).command;
}

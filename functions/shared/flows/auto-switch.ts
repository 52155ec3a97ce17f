/**
 * The pool-risk job's engine pass (API.md §6): every 15 minutes, for each auto-switch agent, run
 * the engine and queue a `model` switch when it recommends one that is allowed — priority 50 when
 * the current pool is risky or a rebalance notice is open, otherwise 25 — through the same
 * open-switch slot as the HTTP routes (limits and "one open switch" hold).
 *
 * Finding the agents: clients (GSI1 `CLIENTS`) → each client's agents (GSI1 `CLIENT#<cid>#AGENTS`),
 * never a Scan. A sparse "auto-switch agents" index would save reading agents with auto-switch
 * off, but every live agent is visited anyway because this pass also accrues the savings ledger
 * (shared/savings-ledger.ts), giving it its 15-minute resolution.
 */
import { buildSwitchCommand, queueSwitch } from './switching.js';
import { PRIORITY } from '../domain/commands.js';
import { willAutoExecute } from '../domain/decision-engine.js';
import { ConflictError } from '../domain/errors.js';
import type { Agent } from '../domain/types.js';
import { logger, MetricUnit, metrics } from '../observability.js';
import { accrueAgent, forEachLiveAgent } from '../savings-ledger.js';
import { evaluateAgent, type PoolCache, switchOpen } from './engine.js';

export interface AutoSwitchSummary {
  clients: number;
  agents: number;
  ledger_accrued: number;
  evaluated: number;
  switches_queued: number;
  urgent: number;
  skipped_open_switch: number;
  failed: number;
  [key: string]: unknown;
}

/** Whether the engine may act for this agent at all (auto-switch on, enabled, online, has a PRIMARY). */
const eligible = (agent: Agent): boolean =>
  agent.config.auto_switch_enabled &&
  agent.config.enabled &&
  agent.status === 'online' &&
  agent.primary_instance_id !== null;

/** `options.clientIds` limits the pass to some clients (tests; a shared table holds other clients). */
export async function runEngineForAutoSwitchAgents(
  now: Date,
  options: { clientIds?: readonly string[] } = {},
): Promise<AutoSwitchSummary> {
  const poolCache: PoolCache = new Map();
  const s = { ledger_accrued: 0, evaluated: 0, switches_queued: 0, urgent: 0, skipped_open_switch: 0 };
  const visited = await forEachLiveAgent(async (agent) => {
    if ((await accrueAgent(agent, now)) === 'accrued') s.ledger_accrued++;
    if (!eligible(agent)) return;
    if (await switchOpen(agent)) {
      s.skipped_open_switch++;
      return;
    }
    const { decision, input, pools } = await evaluateAgent(agent, now, { trigger: 'model', poolCache });
    s.evaluated++;
    if (!willAutoExecute(decision, input)) return;
    const current = input.current.pool_id ? pools.find((p) => p.pool_id === input.current.pool_id) : undefined;
    const risky = typeof current?.risk_score === 'number' && current.risk_score > agent.config.risk_threshold;
    const urgent = risky || agent.notice_status === 'rebalance';
    const command = buildSwitchCommand(
      agent,
      {
        target_mode: decision.recommended_mode,
        target_pool_id: decision.recommended_pool_id,
        priority: urgent ? PRIORITY.modelUrgent : PRIORITY.modelNormal,
        trigger_type: 'model',
        created_by: 'decision-engine',
        reason: decision.reason,
      },
      now,
    );
    try {
      await queueSwitch(command, now);
      s.switches_queued++;
      if (urgent) s.urgent++;
      metrics.addMetric('AutoSwitchQueued', MetricUnit.Count, 1);
      logger.info('auto-switch queued', { agentId: agent.id, commandId: command.id, priority: command.priority });
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      s.skipped_open_switch++; // another switch took the slot meanwhile
    }
  }, options);
  return { clients: visited.clients, agents: visited.agents, failed: visited.failed, ...s };
}

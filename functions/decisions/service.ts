import { loadAgent } from '../shared/flows/agent-access.js';
import { agentsRepo } from '../shared/db/agents-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { decisionsRepo, type StoredDecision } from '../shared/db/decisions-repo.js';
import { savingsRepo } from '../shared/db/savings-repo.js';
import { switchesRepo } from '../shared/db/switches-repo.js';
import { MAX_PRICE_AGE_MS } from '../shared/domain/commands.js';
import { willAutoExecute } from '../shared/domain/decision-engine.js';
import { rankPools, scorePools } from '../shared/domain/pool-ranking.js';
import { newId, ttlAfterDays } from '../shared/domain/ids.js';
import { utcDay } from '../shared/domain/savings.js';
import { round } from '../shared/domain/numbers.js';
import type { Caller } from '../shared/domain/types.js';
import { MetricUnit, metrics } from '../shared/observability.js';
import { evaluateAgent, type Overrides } from '../shared/flows/engine.js';
import { poolPrice } from '../shared/views/pool-price.js';

export { activateUpload, createUpload, fallbackUpload, listUploads } from './registry.js';

/** Decisions are kept 30 days (API.md §3.9, §6). */
const DECISION_TTL_DAYS = 30;

/**
 * POST /api/agents/{aid}/decide: runs the active engine on the latest known data (what the caller
 * sends overrides it) and stores the decision; nothing is executed.
 */
export async function decide(caller: Caller, agentId: string, body: Overrides, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const started = performance.now();
  const { decision, active, input } = await evaluateAgent(agent, now, { overrides: body });
  metrics.addMetric('DecisionLatency', MetricUnit.Milliseconds, performance.now() - started);
  const stored: StoredDecision = {
    decision_id: newId(),
    agent_id: agent.id,
    client_id: agent.client_id,
    created_at: now.toISOString(),
    trigger: input.trigger,
    upload_id: active.upload_id,
    current_mode: input.current.mode,
    current_pool_id: input.current.pool_id,
    candidates: input.candidates.length,
    ...decision,
  };
  await decisionsRepo.put(stored, ttlAfterDays(now, DECISION_TTL_DAYS));
  return { decision_id: stored.decision_id, ...decision };
}

/** GET /api/agents/{aid}/switch-recommendation: the engine's current answer (not stored) and up to 5 alternatives. */
export async function switchRecommendation(caller: Caller, agentId: string, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const { decision, input, pools } = await evaluateAgent(agent, now);
  const od = input.on_demand_price > 0 ? input.on_demand_price : null;
  const currentId = input.current.mode === 'spot' ? input.current.pool_id : null;
  const current = currentId ? pools.find((p) => p.pool_id === currentId) : undefined;
  // The cheapest other pools with a fresh price (shared ranking), up to 5.
  const alternatives = rankPools(scorePools(pools, { now: now.getTime(), undatedIsStale: true }), {
    order: 'best-value',
    excludePoolIds: [currentId],
    requirePrice: true,
    maxPriceAgeSeconds: MAX_PRICE_AGE_MS / 1000,
  })
    .slice(0, 5)
    .map((s) => poolPrice(s.pool, od));
  return {
    recommendation: { decision_id: null, ...decision },
    auto_switch_enabled: agent.config.auto_switch_enabled,
    will_auto_execute: willAutoExecute(decision, input),
    current_pool:
      current && typeof current.price === 'number'
        ? poolPrice(current, od)
        : currentId && input.current.price
          ? { pool_id: currentId, az: agent.az ?? '', instance_type: input.current.instance_type, price: input.current.price, savings_percent: null, risk_score: null }
          : null,
    alternative_pools: alternatives,
  };
}

const SWITCH_FINAL = new Set(['completed', 'failed', 'expired']);

/** GET /api/agents/{aid}/statistics?days=N. */
export async function agentStatistics(caller: Caller, agentId: string, days: number, now: Date) {
  const agent = await loadAgent(caller, agentId);
  const from = new Date(now.getTime() - days * 86_400_000);
  const fromIso = from.toISOString();
  const [decisions, switches, commands, ledger] = await Promise.all([
    decisionsRepo.since(agent.id, fromIso),
    switchesRepo.listByAgent(agent.id, fromIso),
    commandsRepo.listByAgent(agent.id),
    savingsRepo.agentDays(agent.id, utcDay(from.getTime()), utcDay(now.getTime())),
  ]);
  // Success rate over switch commands that reached a final outcome in the window (cancelled ones never ran).
  const finished = commands.filter((c) => c.command_type === 'switch' && SWITCH_FINAL.has(c.status) && c.created_at >= fromIso);
  const succeeded = finished.filter((c) => c.status === 'completed').length;
  const confidences = decisions.map((d) => d.confidence).filter((c) => typeof c === 'number');
  const downtimes = switches.map((s) => s.downtime_seconds).filter((d): d is number => typeof d === 'number');
  const last = decisions.at(-1);
  return {
    total_decisions: decisions.length,
    switches_executed: switches.length,
    success_rate: finished.length ? round(succeeded / finished.length, 4) : switches.length ? 1 : null,
    average_confidence: confidences.length ? round(confidences.reduce((a, b) => a + b, 0) / confidences.length, 4) : null,
    last_decision_at: last?.created_at ?? null,
    avg_downtime_seconds: downtimes.length ? round(downtimes.reduce((a, b) => a + b, 0) / downtimes.length, 3) : null,
    total_savings_generated: round(
      ledger.reduce((a, d) => a + d.savings, 0),
      6,
    ),
    period_days: days,
  };
}

/** Heartbeat age beyond which an agent is not healthy (API.md §4.3: offline after 120 s). */
const HEALTHY_HEARTBEAT_MS = 120_000;

/** GET /api/client/{cid}/agents/decisions?history=N. */
export async function clientAgentDecisions(clientId: string, history: number, now: Date) {
  const agents = (await agentsRepo.listAllByClient(clientId)).filter((a) => a.status !== 'deleted');
  const rows = await Promise.all(
    agents.map(async (agent) => {
      const decisions = await decisionsRepo.latest(agent.id, history);
      const hbAge = agent.last_heartbeat_at ? now.getTime() - Date.parse(agent.last_heartbeat_at) : null;
      return {
        agent_id: agent.id,
        status: agent.status,
        is_healthy:
          (agent.status === 'online' || agent.status === 'switching') && hbAge !== null && hbAge <= HEALTHY_HEARTBEAT_MS,
        last_heartbeat_seconds_ago: hbAge === null ? null : Math.max(0, Math.round(hbAge / 1000)),
        decision_history: decisions.map((d) => ({
          decision_id: d.decision_id,
          decision_type: d.decision_type,
          recommended_pool_id: d.recommended_pool_id,
          risk_score: d.risk_score,
          expected_savings: d.expected_savings_per_hour,
          confidence: d.confidence,
          allowed: d.allowed,
          time: d.created_at,
        })),
      };
    }),
  );
  return { agents: rows };
}

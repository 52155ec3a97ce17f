/**
 * Rebalance recommendations (EventBridge, the agent's notice, a distant AWS Health scheduled
 * change): per the agent's policy (ignore | monitor | prewarm | switch) a priority-50 switch to a
 * safer pool, a pre-warmed replica, or a monitored notice (API.md §3.7, §5).
 */
import { commandsRepo } from '../../db/commands-repo.js';
import { replicasRepo } from '../../db/replicas-repo.js';
import { PRIORITY } from '../../domain/commands.js';
import { effectiveRebalancePolicy, type Incident } from '../../domain/incidents.js';
import { rankPools, scorePools } from '../../domain/pool-ranking.js';
import { isActiveReplica } from '../../domain/replicas.js';
import { commandStatusEvent } from '../../feed.js';
import { Outbox } from '../../outbox.js';
import { poolsOfType } from '../../placement.js';
import { placeholderReplica } from '../replicas.js';
import { switchLimitReached } from '../switching.js';
import { agentTx, commitHandling, incidentSwitch, type Reads, recordOnly, withRetries } from './handling.js';

export async function handleRebalance(incident: Incident, now: Date, reads: Reads): Promise<Incident> {
  const at = now.toISOString();
  return withRetries('rebalance', reads, async () => {
    const agent = await reads.agent();
    if (!agent || agent.status === 'deleted') return recordOnly(incident, now, 'none', 'the agent is deleted');
    if (agent.primary_instance_id !== incident.instance_id) {
      return recordOnly(incident, now, 'recorded', `the instance is ${incident.instance_role}, not the PRIMARY: recorded`);
    }
    const policy = effectiveRebalancePolicy(agent.config);
    if (policy === 'ignore') return recordOnly(incident, now, 'ignored', 'rebalance policy: ignore');
    const instance = await reads.instance();
    if (!instance) return recordOnly(incident, now, 'none', 'the instance is unknown');

    const threshold = agent.config.risk_threshold;
    const pools = agent.region && agent.instance_type ? await poolsOfType(agent.region, agent.instance_type) : [];
    const currentRisk = pools.find((p) => p.pool_id === agent.current_pool_id)?.risk_score ?? null;
    // A safer pool: measured risk within the threshold and below the current pool's, never above on-demand.
    const safer = rankPools(scorePools(pools), {
      order: 'safest',
      excludePoolIds: [agent.current_pool_id],
      requireKnownRisk: true,
      maxRisk: threshold,
      belowRisk: currentRisk,
      maxPrice: instance.ondemand_price,
    })[0]?.pool;
    // The notice lasts the 2 h window: the incident stays on the reconciler's queue, which clears
    // the agent's `rebalance` notice afterwards (or when the PRIMARY moved on). Never downgrade a
    // termination notice.
    const noticeSet = agent.notice_status === 'termination' ? {} : { notice_status: 'rebalance', notice_deadline: null };

    // Switch: under `switch` the recommendation itself says the pool is unsafe; under `prewarm`
    // (API.md's rule) only when the pool's measured risk exceeds the threshold.
    const wantsSwitch =
      agent.notice_status !== 'termination' &&
      agent.config.enabled &&
      agent.config.auto_switch_enabled &&
      safer !== undefined &&
      (policy === 'switch' || (policy === 'prewarm' && currentRisk !== null && currentRisk > threshold));
    if (wantsSwitch && safer) {
      const pending = await commandsRepo.listPending(agent.id, 100);
      const openSwitch = pending.find((c) => c.command_type === 'switch' && c.priority >= PRIORITY.modelUrgent);
      // (A slot naming a finished command counts as empty, as in shared/flows/switching.ts.)
      const limitReached = await switchLimitReached(agent, now); // API.md §4.6 daily/weekly limits
      if (!openSwitch && !agent.inflight_command_id && limitReached === null) {
        const command = incidentSwitch(
          incident,
          agent,
          { mode: 'spot', pool_id: safer.pool_id },
          'model',
          PRIORITY.modelUrgent,
          `rebalance recommendation on ${incident.instance_id}: switch to ${safer.pool_id}`,
          at,
        );
        const lower = pending.filter((c) => c.command_type === 'switch' && c.priority < PRIORITY.modelUrgent);
        const records = new Outbox().event(commandStatusEvent(command, 'pending', now), ...lower.map((c) => commandStatusEvent(c, 'cancelled', now)));
        return commitHandling(
          incident,
          {
            outcome: 'handled',
            action_taken: 'switch',
            command_id: command.id,
            target_mode: 'spot',
            target_pool_id: safer.pool_id,
            risk_score: currentRisk,
            resolved_at: at,
            message: `rebalance (${policy}): switch queued to ${safer.pool_id} (risk ${safer.risk_score})`,
          },
          [
            commandsRepo.createTx(command),
            agentTx(
              agent,
              { ...noticeSet, open_switch_id: command.id, open_switch_priority: command.priority },
              { primary: incident.instance_id, inflight: null, version: agent.version, openSwitch: agent.open_switch_id ?? null },
            ),
            ...lower.map((c) => commandsRepo.cancelTx(c, at, 'superseded by a rebalance switch')),
          ],
          now,
          { close: false, records },
        );
      }
    }

    const replicas = await replicasRepo.listByAgent(agent.id);
    if (policy === 'prewarm' && !replicas.some(isActiveReplica)) {
      const replica = await placeholderReplica(agent, 'automatic-rebalance', at);
      if (replica.pool_id) {
        replica.emergency_event_id = incident.id;
        return commitHandling(
          incident,
          {
            outcome: 'handled',
            action_taken: 'replica_prewarmed',
            replica_id: replica.id,
            target_pool_id: replica.pool_id,
            risk_score: currentRisk,
            resolved_at: at,
            message: `rebalance (prewarm): replica placeholder ${replica.id} in ${replica.pool_id}`,
          },
          [replicasRepo.createTx(replica), agentTx(agent, noticeSet, { primary: incident.instance_id, version: agent.version })],
          now,
          { close: false },
        );
      }
    }
    const existing = replicas.find(isActiveReplica);
    const reason =
      policy === 'prewarm'
        ? existing
          ? `rebalance (prewarm): replica ${existing.id} already exists`
          : 'rebalance (prewarm): no suitable pool for a replica'
        : policy === 'switch'
          ? !agent.config.auto_switch_enabled
              ? 'rebalance (switch): auto-switch is off'
              : !safer
                  ? 'rebalance (switch): no safer pool'
                  : 'rebalance (switch): a switch is already open or the switch limits are reached'
          : `rebalance (${policy}): monitoring`;
    return commitHandling(
      incident,
      {
        outcome: 'handled',
        action_taken: 'monitor',
        replica_id: existing?.id ?? null,
        risk_score: currentRisk,
        resolved_at: at,
        message: reason,
      },
      [agentTx(agent, noticeSet, { primary: incident.instance_id, version: agent.version })],
      now,
      { close: false },
    );
  });
}

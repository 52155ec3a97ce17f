/**
 * POST /api/agents/{aid}/switch-report (AGENT WIRE CONTRACT, API.md §3.10).
 *
 * One transaction stores the Switch (natural key agent + new instance id, through a guard item),
 * makes the new instance PRIMARY (agent pointer conditioned on the value read, as in
 * agentsRepo.replacePrimary), makes the old instance TERMINATED (old_instance_terminated_at set)
 * or ZOMBIE, and completes the linked in-flight command, whose trigger_type wins over the agent's
 * advisory `trigger`. A repeated report finds the guard and returns the same switch_id, writing
 * nothing. Before the transaction the savings ledger closes the old PRIMARY's period at
 * traffic_switched_at with the prices the agent reported.
 */
import { loadAgent } from '../shared/flows/agent-access.js';
import { agentsRepo, primaryFields } from '../shared/db/agents-repo.js';
import { commandsRepo } from '../shared/db/commands-repo.js';
import { instancesRepo } from '../shared/db/instances-repo.js';
import { switchesRepo } from '../shared/db/switches-repo.js';
import { TransactionConflict, transact, type TxPart } from '../shared/db/transaction.js';
import { FINAL_COMMAND_STATUSES } from '../shared/domain/commands.js';
import { ConflictError } from '../shared/domain/errors.js';
import { newId, parseTimestamp, poolIdOf, ttlAfterDays } from '../shared/domain/ids.js';
import { TERMINATED_RETENTION_DAYS } from '../shared/domain/instances.js';
import { round } from '../shared/domain/numbers.js';
import { downtimeSeconds, pricePaid, type Switch, savingsImpact } from '../shared/domain/switches.js';
import type { Agent, Caller, Command, Instance, TriggerType } from '../shared/domain/types.js';
import { MetricUnit, metrics } from '../shared/observability.js';
import { commandStatusEvent } from '../shared/feed.js';
import { Outbox } from '../shared/outbox.js';
import { accrueAgent } from '../shared/savings-ledger.js';
import type { SwitchReport } from './routes.js';

const iso = (value: string): string => parseTimestamp(value).toISOString();

/** The agent's advisory trigger, used only when no server command is linked. */
function advisoryTrigger(trigger: string): TriggerType {
  const t = trigger.toLowerCase();
  if (t.includes('emerg') || t.includes('termination') || t.includes('rebalance')) return 'emergency';
  if (t.includes('sched')) return 'scheduled';
  if (t.includes('manual') || t.includes('force')) return 'manual';
  return 'model';
}

const SWITCH_REPLY = (sw: Pick<Switch, 'id' | 'savings_impact' | 'old_instance_outcome'>) => ({
  success: true as const,
  switch_id: sw.id,
  savings_impact: sw.savings_impact,
  old_instance_status: sw.old_instance_outcome,
});

/** The command this report completes: the one it names, else the agent's in-flight switch. */
async function linkedCommand(agent: Agent, report: SwitchReport): Promise<Command | undefined> {
  const id = report.command_id ?? agent.inflight_command_id ?? null;
  if (!id) return undefined;
  const command = await commandsRepo.get(agent.id, id);
  return command && command.command_type === 'switch' ? command : undefined;
}

/** Agent pointer → the new PRIMARY; frees the in-flight and open-switch slots held by the command. */
function agentSwitchTx(agent: Agent, next: Instance, command: Command | undefined, at: string): TxPart {
  const holdsInflight = command !== undefined && agent.inflight_command_id === command.id;
  const holdsSlot = command !== undefined && agent.open_switch_id === command.id;
  const switching = agent.status === 'switching';
  return agentsRepo.updateTx(agent.id, {
    set: { ...primaryFields(next), pool_since: at, notice_status: 'none', notice_deadline: null, ...(switching ? { status: 'online' } : {}) },
    remove: [...(holdsInflight ? ['inflight_command_id' as const] : []), ...(holdsSlot ? ['open_switch_id' as const, 'open_switch_priority' as const] : [])],
    guard: {
      primary: agent.primary_instance_id ?? null,
      ...(holdsInflight ? { inflight: command.id } : {}),
      ...(holdsSlot ? { openSwitch: command.id } : {}),
      ...(switching ? { status: 'switching' as const } : {}),
    },
  });
}

export async function recordSwitchReport(caller: Caller, agentId: string, report: SwitchReport, now: Date) {
  const agent0 = await loadAgent(caller, agentId);
  const newId_ = report.new_instance.instance_id;
  const oldId = report.old_instance.instance_id;
  const duplicate = await switchesRepo.getByNaturalKey(agent0.id, newId_);
  if (duplicate) return SWITCH_REPLY(duplicate);
  if (newId_ === oldId) {
    throw new ConflictError('INVALID_TRANSITION', 'old_instance and new_instance are the same instance');
  }

  const nowIso = now.toISOString();
  const timing = {
    switch_initiated_at: iso(report.timing.switch_initiated_at),
    new_instance_launched_at: iso(report.timing.new_instance_launched_at),
    new_instance_ready_at: iso(report.timing.new_instance_ready_at),
    traffic_switched_at: iso(report.timing.traffic_switched_at),
    old_instance_terminated_at: report.timing.old_instance_terminated_at ? iso(report.timing.old_instance_terminated_at) : null,
  };
  const onDemand = report.prices.on_demand;
  const oldPrice = pricePaid(report.old_instance.mode, report.prices.old_spot, onDemand);
  const newPrice = pricePaid(report.new_instance.mode, report.prices.new_spot, onDemand);

  // Close the old PRIMARY's ledger period at the cut-over, at the prices the agent reported.
  if (agent0.primary_instance_id === oldId) {
    const oldRecord = await instancesRepo.get(oldId);
    await accrueAgent(agent0, new Date(timing.traffic_switched_at), {
      primary: oldRecord ?? null,
      prices: {
        mode: report.old_instance.mode,
        paid: oldPrice,
        baseline: oldRecord?.baseline_ondemand_price ?? onDemand,
      },
      heartbeatGrace: false,
    });
  }

  for (let attempt = 0; attempt < 4; attempt++) {
    const agent = attempt === 0 ? agent0 : await loadAgent(caller, agentId);
    const command = await linkedCommand(agent, report);
    const commandOpen = command !== undefined && !FINAL_COMMAND_STATUSES.has(command.status);
    const trigger: TriggerType = command?.trigger_type ?? advisoryTrigger(report.trigger);
    const [oldInstance, newInstance] = await Promise.all([instancesRepo.get(oldId), instancesRepo.get(newId_)]);
    if (newInstance && newInstance.agent_id !== agent.id) {
      throw new ConflictError('ALREADY_EXISTS', `instance ${newId_} belongs to another agent`);
    }
    const outcome: Switch['old_instance_outcome'] =
      timing.old_instance_terminated_at || oldInstance?.role === 'TERMINATED' ? 'terminated' : 'zombie';
    const baseline = oldInstance?.baseline_ondemand_price ?? onDemand;

    const sw: Switch = {
      id: newId(),
      agent_id: agent.id,
      client_id: agent.client_id,
      command_id: command?.id ?? null,
      trigger_type: trigger,
      old_instance_id: oldId,
      new_instance_id: newId_,
      old_mode: report.old_instance.mode,
      new_mode: report.new_instance.mode,
      old_pool_id: report.old_instance.mode === 'spot' ? (report.old_instance.pool_id ?? poolIdOf(report.old_instance.instance_type, report.old_instance.az)) : null,
      new_pool_id: report.new_instance.mode === 'spot' ? (report.new_instance.pool_id ?? poolIdOf(report.new_instance.instance_type, report.new_instance.az)) : null,
      on_demand_price: onDemand,
      old_price: oldPrice,
      new_price: newPrice,
      savings_impact: savingsImpact(oldPrice, newPrice),
      downtime_seconds: downtimeSeconds(timing.new_instance_ready_at, timing.traffic_switched_at),
      initiated_at: timing.switch_initiated_at,
      completed_at: timing.traffic_switched_at,
      timing,
      old_instance_outcome: outcome,
      snapshot_used: report.snapshot?.used ?? null,
      reported_trigger: report.trigger,
      created_at: nowIso,
    };

    const nextFields = {
      instance_type: report.new_instance.instance_type,
      region: report.new_instance.region,
      az: report.new_instance.az,
      mode: report.new_instance.mode,
      pool_id: sw.new_pool_id,
      spot_price: report.new_instance.mode === 'spot' ? (report.prices.new_spot ?? null) : null,
      ondemand_price: onDemand ?? newInstance?.ondemand_price ?? null,
      baseline_ondemand_price: newInstance?.baseline_ondemand_price ?? baseline ?? null,
      ami_id: report.new_instance.ami_id ?? newInstance?.ami_id ?? null,
      last_seen_at: nowIso,
    };
    const next: Instance = newInstance
      ? { ...newInstance, ...nextFields, role: 'PRIMARY', zombie_since: null }
      : {
          id: newId_,
          client_id: agent.client_id,
          agent_id: agent.id,
          ...nextFields,
          role: 'PRIMARY',
          notice_status: 'none',
          zombie_since: null,
          terminated_at: null,
          termination_confirmed: false,
          next_listing_at: null,
          private_ip: null,
          public_ip: null,
          hostname: agent.hostname,
          created_at: nowIso,
          version: 1,
        };

    const items: TxPart[] = [...switchesRepo.recordTx(sw), agentSwitchTx(agent, next, command, timing.traffic_switched_at)];
    if (!newInstance) {
      items.push(instancesRepo.createTx(next, {}, 'new-instance'));
    } else if (newInstance.role !== 'PRIMARY' || newInstance.mode !== next.mode || newInstance.pool_id !== next.pool_id) {
      items.push(
        instancesRepo.changeRoleTx(newInstance, 'PRIMARY', nowIso, { expect: { version: newInstance.version }, set: { ...nextFields, zombie_since: null } }, 'new-instance'),
      );
    }
    if (oldInstance && oldInstance.agent_id === agent.id) {
      if (oldInstance.role !== 'TERMINATED' && !(oldInstance.role === 'ZOMBIE' && outcome === 'zombie')) {
        const set =
          outcome === 'terminated'
            ? { terminated_at: timing.old_instance_terminated_at ?? oldInstance.terminated_at ?? nowIso, termination_confirmed: true }
            : { zombie_since: oldInstance.zombie_since ?? timing.traffic_switched_at };
        items.push(
          instancesRepo.changeRoleTx(oldInstance, outcome === 'terminated' ? 'TERMINATED' : 'ZOMBIE', nowIso, { expect: { version: oldInstance.version }, set }, 'old-instance'),
        );
      }
    } else if (!oldInstance) {
      // Never registered (or expired): record it so a ZOMBIE is listed for termination.
      const record: Instance = {
        id: oldId,
        client_id: agent.client_id,
        agent_id: agent.id,
        instance_type: report.old_instance.instance_type,
        region: report.old_instance.region,
        az: report.old_instance.az,
        mode: report.old_instance.mode,
        pool_id: sw.old_pool_id,
        role: outcome === 'terminated' ? 'TERMINATED' : 'ZOMBIE',
        spot_price: report.old_instance.mode === 'spot' ? (report.prices.old_spot ?? null) : null,
        ondemand_price: onDemand,
        baseline_ondemand_price: onDemand,
        notice_status: 'none',
        last_seen_at: null,
        zombie_since: outcome === 'zombie' ? timing.traffic_switched_at : null,
        terminated_at: outcome === 'terminated' ? (timing.old_instance_terminated_at ?? nowIso) : null,
        termination_confirmed: outcome === 'terminated',
        next_listing_at: null,
        ami_id: report.old_instance.ami_id ?? null,
        private_ip: null,
        public_ip: null,
        hostname: agent.hostname,
        created_at: nowIso,
        version: 1,
      };
      items.push(instancesRepo.createTx(record, outcome === 'terminated' ? { ttl: ttlAfterDays(now, TERMINATED_RETENTION_DAYS) } : {}, 'old-instance'));
    }
    // The pointer names a third instance (neither side of this switch): it stops serving too.
    if (agent.primary_instance_id && agent.primary_instance_id !== oldId && agent.primary_instance_id !== newId_) {
      const third = { id: agent.primary_instance_id, agent_id: agent.id };
      const at = timing.traffic_switched_at;
      items.push(instancesRepo.changeRoleTx(third, 'ZOMBIE', at, { expect: { role: 'PRIMARY', agentId: agent.id }, set: { zombie_since: at } }, 'third-primary'));
    }
    if (command && commandOpen) items.push(commandsRepo.finishTx(command, 'completed', nowIso, 'switch reported by the agent'));

    const records = switchRecords(sw, agent, command && commandOpen ? command : undefined, now);
    try {
      await transact([...items, ...records.parts()]);
    } catch (err) {
      if (!(err instanceof TransactionConflict)) throw err;
      if (err.failedOn('switch-key')) {
        // A concurrent identical report won: answer with its switch.
        const winner = await switchesRepo.getByNaturalKey(agent.id, newId_);
        if (winner) return SWITCH_REPLY(winner);
      }
      continue; // the agent, an instance or the command changed meanwhile: re-read and rebuild
    }
    await records.committed();
    metrics.addMetric('SwitchCompleted', MetricUnit.Count, 1);
    if (sw.downtime_seconds !== null) metrics.addMetric('SwitchDowntime', MetricUnit.Seconds, sw.downtime_seconds);
    return SWITCH_REPLY(sw);
  }
  throw new ConflictError('VERSION_CONFLICT', 'the agent kept changing while the switch was recorded; retry');
}

/**
 * What a switch records besides itself, committed in its transaction (shared/outbox.ts): the feed
 * events, the lifecycle log entries at the times the agent reported, the client's notification.
 * A repeated report finds the natural key and writes nothing — and has nothing left to publish.
 */
function switchRecords(sw: Switch, agent: Agent, completes: Command | undefined, now: Date): Outbox {
  const { old_instance_id: oldId, new_instance_id: newId_, trigger_type: trigger, old_instance_outcome: outcome, timing } = sw;
  const meta = { switch_id: sw.id, command_id: sw.command_id, trigger_type: trigger };
  const records = new Outbox()
    .log(
      { instanceId: oldId, eventType: 'switch_initiated', severity: 'info', message: `switch to ${sw.new_pool_id ?? 'on-demand'} initiated`, metadata: meta, at: new Date(timing.switch_initiated_at ?? sw.initiated_at) },
      { instanceId: newId_, eventType: 'became_primary', severity: 'info', message: `PRIMARY after a ${trigger} switch from ${oldId}`, metadata: meta, at: new Date(timing.traffic_switched_at ?? sw.completed_at) },
      {
        instanceId: oldId,
        eventType: outcome === 'terminated' ? 'terminated' : 'became_zombie',
        severity: 'info',
        message: outcome === 'terminated' ? `terminated by the agent after switching to ${newId_}` : `ZOMBIE after switching to ${newId_}`,
        metadata: meta,
        at: new Date(timing.old_instance_terminated_at ?? timing.traffic_switched_at ?? sw.completed_at),
      },
    )
    .event(
      {
        clientId: agent.client_id,
        type: 'switch_completed',
        data: {
          switch_id: sw.id,
          agent_id: agent.id,
          old_instance_id: oldId,
          new_instance_id: newId_,
          trigger_type: trigger,
          savings_impact: sw.savings_impact,
          downtime_seconds: sw.downtime_seconds,
        },
        now,
      },
      { clientId: agent.client_id, type: 'instance_role_changed', data: { agent_id: agent.id, instance_id: newId_, role: 'PRIMARY' }, now },
      { clientId: agent.client_id, type: 'instance_role_changed', data: { agent_id: agent.id, instance_id: oldId, role: outcome === 'terminated' ? 'TERMINATED' : 'ZOMBIE' }, now },
    );
  if (completes) records.event(commandStatusEvent(completes, 'completed', now));
  const impact = sw.savings_impact === null ? '' : ` (${sw.savings_impact >= 0 ? 'saves' : 'costs'} $${round(Math.abs(sw.savings_impact), 4)}/h)`;
  return records.notify({
    clientId: agent.client_id,
    type: 'switch_completed',
    severity: 'info',
    message: `Switch done: ${agent.hostname ?? agent.id} moved from ${sw.old_pool_id ?? 'on-demand'} to ${sw.new_pool_id ?? 'on-demand'}${impact}; old instance ${oldId} is ${outcome}.`,
    agentId: agent.id,
    dedupeKey: `switch-done:${agent.id}:${newId_}`,
    now,
  });
}

import type { IncidentOutcome, SignalType } from './incidents.js';
import type { Severity } from './notifications.js';
import type { AgentStatus, CommandStatus, CommandType, InstanceRole, TriggerType } from './types.js';

/** One role change of an instance. */
export interface RoleChange {
  instance_id: string;
  from: InstanceRole;
  to: InstanceRole;
}

/**
 * The events of the feed (API.md §3.13), each type with its data. The operational counters
 * (stats.ts) read `trigger_type` and `downtime_seconds` of switch_completed and `command_type` and
 * `status` of command_status_changed; dashboards read the rest.
 */
export type FeedEvent =
  | { type: 'agent_status_changed'; data: { agent_id: string; from: AgentStatus; to: AgentStatus; reason?: string } }
  | {
    type: 'instance_role_changed';
    data:
        | { agent_id: string; changes: RoleChange[]; reason: string; emergency_event_id?: string }
        | { agent_id: string; instance_id: string; role: InstanceRole }
        | ({ agent_id: string; instance_id: string; reason: string } & Omit<RoleChange, 'instance_id'>);
  }
  | {
    type: 'command_status_changed';
    data: { agent_id: string; command_id: string; command_type: CommandType; status: CommandStatus; priority?: number };
  }
  | {
    type: 'switch_completed';
    data: {
      switch_id: string;
      agent_id: string;
      old_instance_id: string;
      new_instance_id: string;
      trigger_type: TriggerType;
      savings_impact: number | null;
      downtime_seconds: number | null;
    };
  }
  | {
    type: 'emergency_event';
    data: {
      emergency_event_id: string;
      agent_id: string;
      instance_id: string;
      signal_type: SignalType;
      outcome: IncidentOutcome;
      action_taken: string | null;
      command_id: string | null;
      replica_id: string | null;
    };
  }
  | { type: 'notification_created'; data: { notification_id: string; type: string; severity: Severity; agent_id: string | null } };

/** The role changes of a promotion: the replica's instance becomes PRIMARY, the old PRIMARY (if any) `oldRole`. */
export const promotionChanges = (replicaInstanceId: string, oldPrimaryId: string | null, oldRole: InstanceRole): RoleChange[] => [
  { instance_id: replicaInstanceId, from: 'REPLICA', to: 'PRIMARY' },
  ...(oldPrimaryId ? [{ instance_id: oldPrimaryId, from: 'PRIMARY' as const, to: oldRole }] : []),
];

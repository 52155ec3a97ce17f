import type { Command, TriggerType } from './types.js';

/** API.md §4.1 priorities. */
export const PRIORITY = { emergency: 100, manual: 75, modelUrgent: 50, modelNormal: 25, scheduled: 10 } as const;

/** How long a command may stay pending (API.md §4.1 Expired). */
export function pendingLifetimeSeconds(trigger: TriggerType): number {
  switch (trigger) {
    case 'emergency':
      return 10 * 60;
    case 'manual':
      return 6 * 3600;
    default:
      return 3600;
  }
}

/** A delivered command expires when no result arrives within terminate_wait_seconds + 30 min. */
export const deliveredLifetimeSeconds = (command: Pick<Command, 'terminate_wait_seconds'>): number =>
  command.terminate_wait_seconds + 30 * 60;

export const addSeconds = (at: Date | string, seconds: number): string =>
  new Date((typeof at === 'string' ? Date.parse(at) : at.getTime()) + seconds * 1000).toISOString();

export const FINAL_COMMAND_STATUSES = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** API.md §4.6: a pool's price counts for decisions and switch targets only while at most 2 h old. */
export const MAX_PRICE_AGE_MS = 2 * 3_600_000;

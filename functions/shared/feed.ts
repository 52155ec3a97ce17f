import { randomBytes } from 'node:crypto';
import { feedRepo } from './db/feed-repo.js';
import { transact, type TxPart } from './db/transaction.js';
import type { FeedEvent } from './domain/feed-events.js';
import type { AgentStatus, Command, CommandStatus } from './domain/types.js';
import { logger } from './observability.js';
import { recordFeedStats } from './stats.js';

/** Feed events are retained for 24 h (API.md §3.13). */
const FEED_TTL_SECONDS = 86_400;

/** A time-ordered, unique cursor: ISO time + random suffix (sorts by time, never collides). */
const feedCursor = (at: Date): string => `${at.toISOString()}#${randomBytes(4).toString('hex')}`;

export { type FeedEvent, promotionChanges } from './domain/feed-events.js';

/** An event to publish: to its client's feed (and the admin feed), at the business time `now`. */
export type FeedEventInput = FeedEvent & { clientId: string | null; now: Date };

/** A command's `command_status_changed` event (a queued one carries its priority). */
export const commandStatusEvent = (
  c: Pick<Command, 'id' | 'agent_id' | 'client_id' | 'command_type' | 'priority'>,
  status: CommandStatus,
  now: Date,
): FeedEventInput => ({
  clientId: c.client_id,
  type: 'command_status_changed',
  data: { agent_id: c.agent_id, command_id: c.id, command_type: c.command_type, status, ...(status === 'pending' ? { priority: c.priority } : {}) },
  now,
});

/** An agent's `agent_status_changed` event. */
export const agentStatusEvent = (
  agent: { id: string; client_id: string },
  from: AgentStatus,
  to: AgentStatus,
  now: Date,
  reason?: string,
): FeedEventInput => ({
  clientId: agent.client_id,
  type: 'agent_status_changed',
  data: { agent_id: agent.id, from, to, ...(reason ? { reason } : {}) },
  now,
});

/**
 * Transaction parts publishing `inputs` — they belong in the transaction of the effect they report
 * (see shared/outbox.ts), so an event exists exactly when its effect does. Cursors grow in the order
 * of `inputs`, so readers see the events in that order. Built afresh for every attempt of a
 * transaction: the cursor is the time the write is made, not the business time `now` (a job may
 * commit minutes after its `now`), because readers poll with "after cursor".
 */
export function feedEventParts(inputs: FeedEventInput[]): TxPart[] {
  if (inputs.length === 0) return [];
  // Cursors drawn in the same millisecond are sorted so that the batch keeps its order.
  const at = new Date();
  const cursors = inputs.map(() => feedCursor(at)).sort();
  return feedRepo.appendTx(
    inputs.map((input, i) => ({
      id: cursors[i] as string,
      type: input.type,
      client_id: input.clientId,
      data: input.data,
      created_at: input.now.toISOString(),
      ttl: Math.floor(input.now.getTime() / 1000) + FEED_TTL_SECONDS,
    })),
  );
}

/**
 * Once the events committed: the operational counters derived from them (admin stats / metrics,
 * see stats.ts). Approximate by design — best effort, a failure is logged.
 */
export async function countFeedEvents(inputs: FeedEventInput[]): Promise<void> {
  for (const input of inputs) {
    await recordFeedStats(input, input.now).catch((err: unknown) =>
      logger.warn('could not record feed stats', { type: input.type, error: err as Error }),
    );
  }
}

/** Publishes events that report no other write (tests, one-off announcements): one transaction of their own. */
export async function publishEvents(inputs: FeedEventInput[]): Promise<void> {
  if (inputs.length === 0) return;
  await transact(feedEventParts(inputs));
  await countFeedEvents(inputs);
}

export async function publishEvent(input: FeedEventInput): Promise<void> {
  await publishEvents([input]);
}

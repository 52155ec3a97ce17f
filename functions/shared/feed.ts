import { randomBytes } from 'node:crypto';
import { feedRepo } from './db/feed-repo.js';
import type { FeedEvent } from './domain/feed-events.js';
import { logger } from './observability.js';
import { recordFeedStats } from './stats.js';

/** Feed events are retained for 24 h (API.md §3.13). */
const FEED_TTL_SECONDS = 86_400;

/** A time-ordered, unique cursor: ISO time + random suffix (sorts by time, never collides). */
const feedCursor = (at: Date): string => `${at.toISOString()}#${randomBytes(4).toString('hex')}`;

export { type FeedEvent, promotionChanges } from './domain/feed-events.js';

/** An event to publish: to its client's feed (and the admin feed), at the business time `now`. */
export type FeedEventInput = FeedEvent & { clientId: string | null; now: Date };

/**
 * Appends an event to the client's feed and to the admin feed (one BatchWrite). The feed is a
 * convenience for dashboards: a failure to publish is logged and never fails the business write
 * that already happened.
 */
export async function publishEvent(input: FeedEventInput): Promise<void> {
  await publishEvents([input]);
}

/**
 * Publishes several events of one flow together: one BatchWrite (per 25 items) instead of one per
 * event. Cursors grow in the order of `inputs`, so readers see the events in that order.
 */
export async function publishEvents(inputs: FeedEventInput[]): Promise<void> {
  if (inputs.length === 0) return;
  // The cursor is the write time, not the business time `now` (a job may publish minutes after
  // its `now`): readers poll with "after cursor", so cursors must grow in the order items land.
  // Cursors drawn in the same millisecond are sorted so that the batch keeps its order.
  const at = new Date();
  const cursors = inputs.map(() => feedCursor(at)).sort();
  try {
    // One BatchWrite for a whole flow's events (more only past 25 items): each to its client's feed and the admin feed.
    await feedRepo.append(
      inputs.map((input, i) => ({
        id: cursors[i] as string,
        type: input.type,
        client_id: input.clientId,
        data: input.data,
        created_at: input.now.toISOString(),
        ttl: Math.floor(input.now.getTime() / 1000) + FEED_TTL_SECONDS,
      })),
    );
  } catch (err) {
    logger.warn('could not publish feed events', { type: [...new Set(inputs.map((i) => i.type))].join(','), error: err as Error });
  }
  // Operational counters (admin stats / metrics, see stats.ts for the data fields read): best effort.
  for (const input of inputs) {
    await recordFeedStats(input, input.now).catch((err: unknown) =>
      logger.warn('could not record feed stats', { type: input.type, error: err as Error }),
    );
  }
}

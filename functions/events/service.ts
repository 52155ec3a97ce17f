import { feedRepo, type FeedItem } from '../shared/db/feed-repo.js';
import { ValidationError } from '../shared/domain/errors.js';
import { parseTimestamp } from '../shared/domain/ids.js';
import type { Caller } from '../shared/domain/types.js';
import { actingClientId } from '../shared/http/auth.js';

/** API.md §3.13: at most 100 events per answer, retained 24 h; the client reconnects after 5 s. */
export const MAX_EVENTS = 100;
export const RETENTION_MS = 24 * 3600 * 1000;
export const RETRY_MS = 5000;
/**
 * Events are only handed out once they are this old: a writer computes its cursor just before its
 * write lands, so an event younger than this could still appear behind a cursor already returned.
 */
export const SETTLE_MS = 2000;

/** A cursor is `<ISO time>#<hex>` (feed.ts); a bare ISO-8601 time also works as a position. */
const CURSOR = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)(#[0-9a-f]{1,32})?$/;

/** Normalises `since` / `Last-Event-ID`: a feed cursor as is, any ISO-8601 time to its UTC form. */
export function parseCursor(value: string, field: string): string {
  const trimmed = value.trim();
  if (CURSOR.test(trimmed)) return trimmed;
  const at = trimmed.length <= 40 ? parseTimestamp(trimmed) : new Date(Number.NaN);
  if (/^\d{4}-\d{2}-\d{2}/.test(trimmed) && !Number.isNaN(at.getTime())) return at.toISOString();
  throw new ValidationError('the cursor is not an event id or an ISO-8601 time', [{ field, issue: 'invalid cursor' }]);
}

export interface StreamQuery {
  since?: string;
  types?: string[];
  client_id?: string;
  format: 'sse' | 'json';
}

export interface FeedPage {
  events: Array<{ id: string; type: string; data: unknown; created_at: string }>;
  next_cursor: string;
}

const view = (e: FeedItem) => ({ id: e.id, type: e.type, data: e.data, created_at: e.created_at });

/**
 * GET /api/events/stream as a poll-friendly batch (an HTTP API cannot hold a stream open): the
 * events after the cursor, oldest first, up to 100. Without a cursor: the newest 100 of the last
 * 24 h. `next_cursor` is where the next poll continues (the last event, or — when everything due
 * was read — the settle bound, so a filtered or empty poll does not rescan the same range).
 */
export async function readFeed(caller: Caller, query: StreamQuery, lastEventId: string | undefined, now: Date): Promise<FeedPage> {
  const raw = query.since ?? lastEventId;
  const cursor = raw !== undefined && raw.trim() !== '' ? parseCursor(raw, query.since !== undefined ? 'query.since' : 'header.last-event-id') : undefined;
  // A client token reads its own feed whatever client_id says; the admin reads one client's or all.
  const clientId = caller.kind === 'client' ? caller.clientId : (actingClientId(caller, query.client_id) ?? null);
  const floor = new Date(now.getTime() - RETENTION_MS).toISOString();
  const bound = new Date(now.getTime() - SETTLE_MS).toISOString();
  const after = cursor && cursor > floor ? cursor : floor;
  if (after >= bound) return { events: [], next_cursor: cursor ?? bound };
  const read = await feedRepo.read({
    clientId,
    after,
    before: bound,
    limit: MAX_EVENTS,
    ...(query.types ? { types: query.types } : {}),
    newest: cursor === undefined,
  });
  const last = read.items.at(-1)?.id;
  // Reading oldest first, a stop before the bound continues from where DynamoDB stopped.
  const next = cursor !== undefined && read.stoppedAt !== null ? maxCursor(read.stoppedAt, last) : bound;
  return { events: read.items.map(view), next_cursor: next };
}

const maxCursor = (a: string, b: string | undefined): string => (b !== undefined && b > a ? b : a);

/**
 * The SSE rendering: `retry: 5000`, one `id/event/data` block per event, and a closing `heartbeat`
 * whose `id` is next_cursor (EventSource sends it back as Last-Event-ID when it reconnects).
 */
export function toSse(page: FeedPage, now: Date): string {
  const lines = [`retry: ${RETRY_MS}`, ''];
  for (const e of page.events) {
    lines.push(`id: ${e.id}`, `event: ${e.type}`, `data: ${JSON.stringify(e)}`, '');
  }
  lines.push(
    `id: ${page.next_cursor}`,
    'event: heartbeat',
    `data: ${JSON.stringify({ next_cursor: page.next_cursor, count: page.events.length, server_time: now.toISOString() })}`,
    '',
    '',
  );
  return lines.join('\n');
}

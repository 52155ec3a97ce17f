import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readFeed, SETTLE_MS, toSse } from '../../../functions/events/service.js';
import { publishEvent } from '../../../functions/shared/feed.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess } from '../../support/factories.js';
import { invoke } from '../../support/http.js';

const client = (clientId: string) => ({ kind: 'client' as const, clientId });
/** A reader's clock past the settle window, so events published just now are due. */
const later = () => new Date(Date.now() + SETTLE_MS + 1000);

/** A switch_completed event's data carrying a test marker (stored and returned as is). */
const switchData = (marker: string, seq = 0) => ({
  switch_id: `sw-${seq}`,
  agent_id: 'test-agent',
  old_instance_id: 'i-0000000000000000a',
  new_instance_id: 'i-0000000000000000b',
  trigger_type: 'manual' as const,
  savings_impact: null,
  downtime_seconds: null,
  seq,
  marker,
});

async function publish(clientId: string | null, n: number, type: 'agent_status_changed' | 'switch_completed' = 'agent_status_changed') {
  for (let i = 0; i < n; i++) {
    const marker = clientId ?? 'admin';
    const event =
      type === 'switch_completed'
        ? { type, data: switchData(marker, i) }
        : { type, data: { agent_id: 'test-agent', from: 'online' as const, to: 'offline' as const, seq: i, marker } };
    await publishEvent({ clientId, ...event, now: new Date() });
  }
}

describe('events feed (service)', () => {
  it('returns a client’s events after the cursor, oldest first, at most 100, then continues', async () => {
    const { client: c } = await createClientInProcess();
    await publish(c.id, 105);
    const first = await readFeed(client(c.id), { format: 'json', since: new Date(Date.now() - 60_000).toISOString() }, undefined, later());
    expect(first.events).toHaveLength(100);
    expect(first.events.map((e) => (e.data as { seq: number }).seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const rest = await readFeed(client(c.id), { format: 'json', since: first.next_cursor }, undefined, later());
    expect(rest.events.map((e) => (e.data as { seq: number }).seq)).toEqual([100, 101, 102, 103, 104]);
    const none = await readFeed(client(c.id), { format: 'json', since: rest.next_cursor }, undefined, later());
    expect(none.events).toEqual([]);
    expect(none.next_cursor >= rest.next_cursor).toBe(true);
  });

  it('without a cursor returns the newest 100; Last-Event-ID works like since; types filter', async () => {
    const { client: c } = await createClientInProcess();
    await publish(c.id, 3);
    await publish(c.id, 2, 'switch_completed');
    const all = await readFeed(client(c.id), { format: 'json' }, undefined, later());
    expect(all.events.map((e) => e.type)).toEqual([
      'agent_status_changed',
      'agent_status_changed',
      'agent_status_changed',
      'switch_completed',
      'switch_completed',
    ]);
    const third = all.events[2]?.id as string;
    const after = await readFeed(client(c.id), { format: 'json' }, third, later());
    expect(after.events.map((e) => e.type)).toEqual(['switch_completed', 'switch_completed']);
    const switches = await readFeed(client(c.id), { format: 'json', types: ['switch_completed'] }, undefined, later());
    expect(switches.events).toHaveLength(2);
  });

  it('never returns events younger than the settle window (they could still land behind the cursor)', async () => {
    const { client: c } = await createClientInProcess();
    await publish(c.id, 1);
    const early = await readFeed(client(c.id), { format: 'json' }, undefined, new Date(Date.now() - 60_000));
    expect(early.events).toEqual([]);
    expect((await readFeed(client(c.id), { format: 'json' }, undefined, later())).events).toHaveLength(1);
  });

  it('a client reads only its own feed whatever client_id says; the admin reads one client or all', async () => {
    const { client: a } = await createClientInProcess();
    const { client: b } = await createClientInProcess();
    await publish(b.id, 2);
    const sneaky = await readFeed(client(a.id), { format: 'json', client_id: b.id }, undefined, later());
    expect(sneaky.events).toEqual([]);
    const adminB = await readFeed({ kind: 'admin' }, { format: 'json', client_id: b.id }, undefined, later());
    expect(adminB.events).toHaveLength(2);
    const since = new Date(Date.now() - 30_000).toISOString();
    const adminAll = await readFeed({ kind: 'admin' }, { format: 'json', since }, undefined, later());
    expect(adminAll.events.length).toBeGreaterThan(0);
  });

  it('renders SSE: retry first, id/event/data blocks, a closing heartbeat carrying the next cursor', () => {
    const body = toSse(
      { events: [{ id: '2025-01-01T00:00:00.000Z#ab', type: 'switch_completed', data: { a: 1 }, created_at: '2025-01-01T00:00:00.000Z' }], next_cursor: 'c1' },
      new Date('2025-01-01T00:00:05.000Z'),
    );
    expect(body.startsWith('retry: 5000\n\n')).toBe(true);
    expect(body).toContain('id: 2025-01-01T00:00:00.000Z#ab\nevent: switch_completed\ndata: {"id":"2025-01-01T00:00:00.000Z#ab"');
    expect(body.trimEnd().split('\n\n').at(-1)).toBe(
      'id: c1\nevent: heartbeat\ndata: {"next_cursor":"c1","count":1,"server_time":"2025-01-01T00:00:05.000Z"}',
    );
  });
});

describe('GET /api/events/stream', () => {
  it('answers SSE by default and JSON on request, scoped to the caller', async () => {
    const a = await createClientInProcess();
    const b = await createClientInProcess();
    const marker = randomUUID();
    await publishEvent({ clientId: a.client.id, type: 'switch_completed', data: switchData(marker), now: new Date() });
    await new Promise((r) => setTimeout(r, SETTLE_MS + 200));

    const sse = await invoke('events', 'GET', '/api/events/stream', { token: a.token });
    expect(sse.status).toBe(200);
    expect(sse.headers['content-type']).toContain('text/event-stream');
    expect(sse.text.startsWith('retry: 5000')).toBe(true);
    expect(sse.text).toContain(marker);
    expect(sse.text).toMatch(/event: heartbeat\ndata: .*\n\n$/);

    const json = await invoke<{ events: Array<{ data: { marker?: string } }>; next_cursor: string }>('events', 'GET', '/api/events/stream', {
      token: a.token,
      query: { format: 'json' },
    });
    expect(json.json.events.map((e) => e.data.marker)).toEqual([marker]);
    const other = await invoke('events', 'GET', '/api/events/stream', { token: b.token, query: { format: 'json', client_id: a.client.id } });
    expect(other.status).toBe(200);
    expect(other.text).not.toContain(marker);
    const asAdmin = await invoke('events', 'GET', '/api/events/stream', {
      token: TEST_ADMIN_TOKEN,
      query: { format: 'json', client_id: a.client.id },
    });
    expect(asAdmin.text).toContain(marker);
  });

  it('refuses a malformed cursor with 400 and a bad type with 400', async () => {
    const a = await createClientInProcess();
    const bad = await invoke<{ error: { details: Array<{ field: string }> } }>('events', 'GET', '/api/events/stream', {
      token: a.token,
      headers: { 'last-event-id': 'garbage' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.details[0]?.field).toBe('header.last-event-id');
    expect((await invoke('events', 'GET', '/api/events/stream', { token: a.token, query: { types: 'nope' } })).status).toBe(400);
  });
});

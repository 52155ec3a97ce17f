/**
 * Live updates: polls `GET /api/events/stream?format=json` with the cursor (the route is a batch,
 * not a held-open stream: README "Events feed"), tells subscribers which topics changed, and keeps
 * a state the header shows: live, paused (by the user, or the tab is hidden), offline (failing).
 */
import { api } from './api.js';
import { type LiveState, liveState, topicsOf } from './model.js';

const POLL_MS = 5_000;

export interface FeedEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  created_at: string;
}

type Listener = (topics: Set<string>, events: FeedEvent[]) => void;

export class LiveFeed {
  private cursor: string | undefined;
  private timer: number | undefined;
  private failures = 0;
  private paused = false;
  private stopped = true;
  private listeners = new Set<Listener>();
  private stateListeners = new Set<(s: LiveState) => void>();
  lastEventAt: string | null = null;

  constructor(private readonly clientId: string | null) {}

  get state(): LiveState {
    return liveState({ paused: this.paused, hidden: document.hidden, failures: this.failures, online: navigator.onLine });
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn);
    fn(this.state);
    return () => this.stateListeners.delete(fn);
  }

  private emitState() {
    for (const fn of this.stateListeners) fn(this.state);
  }

  private readonly visibility = () => {
    this.emitState();
    if (!document.hidden && !this.paused) void this.poll();
  };

  start() {
    this.stopped = false;
    document.addEventListener('visibilitychange', this.visibility);
    window.addEventListener('online', this.visibility);
    window.addEventListener('offline', this.visibility);
    void this.poll();
  }

  stop() {
    this.stopped = true;
    window.clearTimeout(this.timer);
    document.removeEventListener('visibilitychange', this.visibility);
    window.removeEventListener('online', this.visibility);
    window.removeEventListener('offline', this.visibility);
  }

  setPaused(paused: boolean) {
    this.paused = paused;
    this.emitState();
    if (!paused) void this.poll();
  }

  private schedule() {
    window.clearTimeout(this.timer);
    if (!this.stopped) this.timer = window.setTimeout(() => void this.poll(), this.failures ? Math.min(30_000, POLL_MS * 2 ** this.failures) : POLL_MS);
  }

  private async poll() {
    if (this.stopped) return;
    if (this.paused || document.hidden) return this.schedule();
    try {
      const page = await api.get<{ events: FeedEvent[]; next_cursor: string }>('/api/events/stream', {
        format: 'json',
        since: this.cursor,
        client_id: this.clientId ?? undefined,
      });
      const first = this.cursor === undefined;
      this.cursor = page.next_cursor;
      this.failures = 0;
      // The first page is context (the last 24 h), not news: it sets the cursor only.
      if (!first && page.events.length > 0) {
        this.lastEventAt = page.events.at(-1)?.created_at ?? this.lastEventAt;
        const topics = new Set(page.events.flatMap((e) => topicsOf(e.type)));
        for (const fn of this.listeners) fn(topics, page.events);
      }
    } catch {
      this.failures++;
    }
    this.emitState();
    this.schedule();
  }
}

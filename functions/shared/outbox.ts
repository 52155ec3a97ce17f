/**
 * What a flow records about an effect — feed events, notifications, lifecycle log entries — commits
 * in the effect's own TransactWriteItems (an outbox): they exist exactly when the effect does, so a
 * crash between the commit and a later write can no longer lose them, and a retry that finds the
 * effect done (natural-key dedupe, a handled incident, a completed command) has nothing to redo.
 * Collect with `event` / `notify` / `log`, add `parts()` to the transaction, call `committed()`
 * after it succeeded (metrics and the approximate operational counters, best effort).
 */
import type { TxPart } from './db/transaction.js';
import { countFeedEvents, type FeedEventInput, feedEventParts } from './feed.js';
import { type InstanceEventInput, instanceEventPart } from './instance-log.js';
import { notificationOf, notificationPart, notified, type NotifyInput } from './notify.js';

export class Outbox {
  readonly #events: FeedEventInput[] = [];
  readonly #notifications: (ReturnType<typeof notificationOf> & { now: Date })[] = [];
  readonly #logs: InstanceEventInput[] = [];

  event(...events: FeedEventInput[]): this {
    this.#events.push(...events);
    return this;
  }

  /**
   * A notification about the effect. Its dedupe key must derive from the effect's own guard (an
   * incident, a switch's natural key…): the effect commits once, so the notification is new.
   */
  notify(input: NotifyInput): this {
    this.#notifications.push({ ...notificationOf(input), now: input.now });
    return this;
  }

  log(...entries: InstanceEventInput[]): this {
    this.#logs.push(...entries);
    return this;
  }

  /** Transaction parts; built afresh on every call, so a retried transaction gets fresh feed cursors. */
  parts(): TxPart[] {
    return [
      ...feedEventParts([...this.#events, ...this.#notifications.map((n) => n.event)]),
      ...this.#notifications.map((n) => notificationPart(n.notification, n.now)),
      ...this.#logs.map(instanceEventPart),
    ];
  }

  /** After the transaction committed: notification metrics and the feed's operational counters. */
  async committed(): Promise<void> {
    for (const n of this.#notifications) notified(n.notification);
    await countFeedEvents([...this.#events, ...this.#notifications.map((n) => n.event)]);
  }
}

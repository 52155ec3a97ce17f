import { type Item, queryPage, stripKeys, txPut, where, withFilter } from './conditions.js';
import { keys } from './keys.js';
import { type TxPart, txPart } from './transaction.js';

/** One entry of an instance's lifecycle log (GET /api/client/instances/{iid}/logs). */
export interface InstanceLogEntry {
  id: string;
  instance_id: string;
  timestamp: string;
  event_type: string;
  severity: string;
  message: string;
  metadata: Record<string, unknown> | null;
}

/**
 * The lifecycle log of an instance: items in the instance's own item collection
 * (`INSTANCE#<iid>` / `LOG#<at>#<order>`), so reading it newest first is one reverse Query.
 */
export const instanceLogRepo = {
  /**
   * Transaction part appending an entry (it commits with the change it records); `order` breaks
   * ties between entries written in the same millisecond.
   */
  appendTx(entry: InstanceLogEntry, order: string, ttl: number): TxPart {
    return txPart('instance-log', txPut({ ...keys.instanceLog(entry.instance_id, entry.timestamp, order), entity: 'instance-log', ...entry, ttl }));
  },

  /** Newest first; with a severity, a filter (pages are refilled, within a bounded number of reads). */
  async list(instanceId: string, query: { severity?: string; limit: number; nextToken?: string }) {
    const base = keys.instanceLog(instanceId, '', '');
    const prefix = base.SK.slice(0, base.SK.indexOf('#') + 1); // "LOG#"
    const events: InstanceLogEntry[] = [];
    let token = query.nextToken;
    // Keep reading while a severity filter leaves the page short (bounded: a log has at most 30 days).
    for (let round = 0; round < 10; round++) {
      const page = await queryPage<Item>(
        withFilter(
          {
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :log)',
            ExpressionAttributeValues: { ':pk': base.PK, ':log': prefix },
            ScanIndexForward: false,
          },
          query.severity ? where.eq('severity', query.severity) : undefined,
        ),
        query.limit - events.length,
        token,
      );
      events.push(...page.items.map((i) => stripKeys(i) as unknown as InstanceLogEntry));
      token = page.nextToken ?? undefined;
      if (!token || events.length >= query.limit) break;
    }
    return { events, nextToken: token ?? null };
  },
};

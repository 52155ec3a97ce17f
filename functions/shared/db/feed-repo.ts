import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.js';
import { type Item, txPut } from './conditions.js';
import { keys } from './keys.js';
import { type TxPart, txPart } from './transaction.js';

export interface FeedItem {
  id: string;
  type: string;
  client_id: string | null;
  data: unknown;
  created_at: string;
}

export interface FeedRead {
  items: FeedItem[];
  /** Sort key of the last item DynamoDB evaluated when the read stopped early; null when exhausted. */
  stoppedAt: string | null;
}

const toFeedItem = (i: Item): FeedItem => ({
  id: String(i.SK),
  type: String(i.type),
  client_id: (i.client_id as string | null | undefined) ?? null,
  data: i.data ?? null,
  created_at: String(i.created_at),
});

/**
 * Reads the events feed (keys.feedEvent): a client's `FEED#<cid>` or the admin's `FEED#ALL`.
 * Sort keys are time-ordered cursors, so "events after a cursor" is one key-range Query.
 */
export const feedRepo = {
  /**
   * Transaction parts appending events: each to the feed of its client and to the admin feed
   * `FEED#ALL`; the cursor is the sort key. Kept until `ttl`. They ride in the transaction of the
   * effect they report (an outbox), so an event exists exactly when its effect does.
   */
  appendTx(events: Array<FeedItem & { ttl: number }>): TxPart[] {
    return events.flatMap((e) => {
      const body = { ...e, entity: 'feed-event' };
      const feeds = e.client_id ? [e.client_id, null] : [null];
      return feeds.map((cid) => txPart('feed-event', txPut({ ...keys.feedEvent(cid, e.id), ...body })));
    });
  },

  /**
   * Up to `limit` events with after < cursor < before, oldest first (`newest: true`: the newest
   * ones, still returned oldest first), optionally only some types. Reads at most `maxCalls` pages.
   */
  async read(opts: {
    clientId: string | null;
    after: string;
    before: string;
    limit: number;
    types?: string[];
    newest?: boolean;
    maxCalls?: number;
  }): Promise<FeedRead> {
    const items: FeedItem[] = [];
    const pk = keys.feedEvent(opts.clientId, '').PK;
    const typeValues = Object.fromEntries((opts.types ?? []).map((t, i) => [`:t${i}`, t]));
    let start: Item | undefined;
    let stoppedAt: string | null = null;
    for (let call = 0; call < (opts.maxCalls ?? 5); call++) {
      const out = await ddb.send(
        new QueryCommand({
          TableName: tableName(),
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :after AND :before',
          ExpressionAttributeValues: { ':pk': pk, ':after': opts.after, ':before': opts.before, ...typeValues },
          ...(opts.types && opts.types.length > 0
            ? { FilterExpression: `#type IN (${Object.keys(typeValues).join(', ')})`, ExpressionAttributeNames: { '#type': 'type' } }
            : {}),
          ScanIndexForward: !opts.newest,
          Limit: opts.limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      // BETWEEN is inclusive: the bounds themselves are cursors already seen / not yet due.
      items.push(
        ...(out.Items ?? []).filter((i) => String(i.SK) !== opts.after && String(i.SK) !== opts.before).map(toFeedItem),
      );
      start = out.LastEvaluatedKey;
      stoppedAt = start ? String(start.SK) : null;
      if (!start || items.length >= opts.limit) break;
    }
    if (opts.newest) items.reverse();
    return { items, stoppedAt };
  },
};

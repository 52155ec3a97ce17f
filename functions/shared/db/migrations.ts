import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Agent } from '../domain/types.js';
import { liveItem } from './agents-repo.js';
import { ddb, tableName } from './client.js';
import { getItem, isConditionFailure, type Item, stripKeys, updateIf, where } from './conditions.js';
import { keys } from './keys.js';

/** The all-agents partition key before the indexes were sharded (README "Capacity and cost"). */
const LEGACY_ALL_AGENTS = 'AGENTS';
const WATCHED = new Set(['online', 'switching']);

export interface AgentMigration {
  /** Agents found in the pre-shard partition. */
  found: number;
  /** Agents moved to the sharded index keys. */
  rekeyed: number;
  /** Live items created (agents that had none). */
  liveCreated: number;
}

/**
 * Moves the agents stored before the write-sharded indexes (keys.ts SHARDS) to them: each agent of
 * the old all-agents partition (GSI2 `AGENTS`, a Query — no Scan) gets its sharded client,
 * all-agents and online keys, and a live item when it has none. Idempotent and safe while the
 * control plane runs: every write is conditioned (the re-key on the agent still being in the old
 * partition with the status read, the live item on not existing), and a live agent's own next
 * heartbeat does the same. Nothing else needs migrating: no table or index definition changed,
 * and readers treat a missing live item or instance telemetry item as empty.
 */
export async function migrateAgentsToShardedIndexes(
  options: { dryRun?: boolean; progress?: (m: AgentMigration) => void } = {},
): Promise<AgentMigration> {
  const m: AgentMigration = { found: 0, rekeyed: 0, liveCreated: 0 };
  let start: Item | undefined;
  for (;;) {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': LEGACY_ALL_AGENTS },
        Limit: 100,
        ExclusiveStartKey: start,
      }),
    );
    const items = out.Items ?? [];
    for (const item of items) {
      m.found++;
      if (options.dryRun) continue;
      if (await rekey(item)) m.rekeyed++;
      if (await createLive(stripKeys(item) as unknown as Agent)) m.liveCreated++;
    }
    options.progress?.(m);
    // Paging on while items leave the partition is fine: a start key need not exist any more, and
    // an item the (eventually consistent) index still shows after its move fails both conditions.
    start = out.LastEvaluatedKey;
    if (!start) return m;
  }
}

async function rekey(item: Item): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const current = attempt === 0 ? item : await getItem<Item>(keys.agent(String(item.id)));
    if (!current || current.GSI2PK !== LEGACY_ALL_AGENTS) return false;
    const id = String(current.id);
    const watched = WATCHED.has(String(current.status));
    const moved = await updateIf(keys.agent(id), {
      set: {
        ...keys.agentsOfClientIndex(String(current.client_id), String(current.created_at), id),
        ...keys.allAgentsIndex(String(current.created_at), id),
        ...(watched ? keys.onlineAgentsIndex(id) : {}),
      },
      remove: watched ? [] : ['GSI3PK', 'GSI3SK'],
      bumpVersion: false,
      condition: where.and(where.eq('GSI2PK', LEGACY_ALL_AGENTS), where.eq('status', String(current.status))),
    });
    if (moved) return true;
  }
  return false;
}

async function createLive(agent: Agent): Promise<boolean> {
  try {
    await ddb.send(new PutCommand({ TableName: tableName(), Item: liveItem(agent), ConditionExpression: 'attribute_not_exists(PK)' }));
    return true;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}

import type { Decision } from '../domain/decision-engine.js';
import { putIfAbsent, queryAll, queryPage, stripKeys } from './conditions.js';
import { keys } from './keys.js';

/** A stored decision (API.md §3.9: kept 30 days; TTL attribute `ttl`). */
export interface StoredDecision extends Decision {
  decision_id: string;
  agent_id: string;
  client_id: string;
  created_at: string;
  trigger: string;
  /** The active upload whose parameters produced it (null = built-in defaults). */
  upload_id: string | null;
  current_mode: string;
  current_pool_id: string | null;
  candidates: number;
}

const toDecision = (item: Record<string, unknown>) => stripKeys(item) as unknown as StoredDecision;

/** Decisions live in the agent's item collection: `AGENT#<aid>` / `DECISION#<at>#<id>`. */
export const decisionsRepo = {
  async put(decision: StoredDecision, ttl: number): Promise<void> {
    await putIfAbsent({
      ...keys.decision(decision.agent_id, decision.created_at, decision.decision_id),
      entity: 'decision',
      ...decision,
      ttl,
    });
  },

  /** The newest `limit` decisions of an agent, newest first. */
  async latest(agentId: string, limit: number): Promise<StoredDecision[]> {
    const page = await queryPage<Record<string, unknown>>(
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.decisionPrefix },
        ScanIndexForward: false,
      },
      limit,
    );
    return page.items.map(toDecision);
  },

  /** One page of an agent's decisions, newest first (the console's decision log). */
  async page(agentId: string, limit: number, nextToken?: string): Promise<{ items: StoredDecision[]; nextToken: string | null }> {
    const page = await queryPage<Record<string, unknown>>(
      {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.agent(agentId).PK, ':prefix': keys.decisionPrefix },
        ScanIndexForward: false,
      },
      limit,
      nextToken,
    );
    return { items: page.items.map(toDecision), nextToken: page.nextToken };
  },

  /** Decisions since `from` (ISO), oldest first: only the fields the statistics need. */
  async since(agentId: string, from: string): Promise<Pick<StoredDecision, 'created_at' | 'confidence' | 'decision_type'>[]> {
    const items = await queryAll<Record<string, unknown>>({
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :lo AND :hi',
      ExpressionAttributeValues: {
        ':pk': keys.agent(agentId).PK,
        ':lo': `${keys.decisionPrefix}${from}`,
        ':hi': `${keys.decisionPrefix}~`,
      },
      ProjectionExpression: 'created_at, confidence, decision_type',
    });
    return items as unknown as Pick<StoredDecision, 'created_at' | 'confidence' | 'decision_type'>[];
  },
};

import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ddb, tableName } from './client.js';
import { isConditionFailure, oldItemOf } from './conditions.js';
import { keys } from './keys.js';

export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export interface IdempotencyRecord {
  status: 'IN_PROGRESS' | 'COMPLETED';
  body_hash: string;
  response?: StoredResponse;
  /** Epoch ms after which an IN_PROGRESS lock is considered abandoned (crashed invocation). */
  lock_expires_at: number;
}

/** API.md §1.4: stored 24 h. */
const RECORD_TTL_SECONDS = 86_400;
/** Longer than the Lambda timeout (25 s): a lock older than this belongs to a dead invocation. */
const LOCK_SECONDS = 30;

/**
 * Idempotency records live in the single table (`IDEMP#<scope hash>`). The record is claimed with a
 * conditional put before the business write and completed after it; the claim is what guarantees
 * one execution per key, and the stored response is what a retry gets back.
 */
export const idempotencyRepo = {
  /** Claims the key. Returns undefined when claimed, or the existing record. */
  async claim(scopeHash: string, bodyHash: string, nowMs: number): Promise<IdempotencyRecord | undefined> {
    try {
      await ddb.send(
        new PutCommand({
          TableName: tableName(),
          Item: {
            ...keys.idempotency(scopeHash),
            entity: 'idempotency',
            status: 'IN_PROGRESS',
            body_hash: bodyHash,
            lock_expires_at: nowMs + LOCK_SECONDS * 1000,
            ttl: Math.floor(nowMs / 1000) + RECORD_TTL_SECONDS,
          },
          // A stale IN_PROGRESS lock (crashed invocation) or an expired record may be taken over.
          ConditionExpression:
            'attribute_not_exists(PK) OR (#status = :inProgress AND lock_expires_at < :now) OR #ttl < :nowSeconds',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':inProgress': 'IN_PROGRESS',
            ':now': nowMs,
            ':nowSeconds': Math.floor(nowMs / 1000),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return undefined;
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return oldItemOf(err) as unknown as IdempotencyRecord;
    }
  },

  async complete(scopeHash: string, response: StoredResponse): Promise<void> {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.idempotency(scopeHash),
        UpdateExpression: 'SET #status = :completed, #response = :response',
        ExpressionAttributeNames: { '#status': 'status', '#response': 'response' },
        ExpressionAttributeValues: { ':completed': 'COMPLETED', ':response': response },
      }),
    );
  },

  /** 5xx responses are not stored: release the key so a retry runs again. */
  async release(scopeHash: string): Promise<void> {
    await ddb.send(new DeleteCommand({ TableName: tableName(), Key: keys.idempotency(scopeHash) }));
  },
};

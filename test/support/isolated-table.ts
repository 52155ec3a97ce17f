import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { createTable } from '../../functions/shared/db/create-table.js';

/**
 * Gives the calling test file a table of its own (same definition, same DynamoDB Local). For files
 * that run installation-wide jobs with a shifted clock (heartbeat timeout, command expiry, zombie
 * cleanup, reconciler, pool risk…): in the shared table those sweeps would also act on the other
 * files' agents and commands, which run in parallel. Repositories read TABLE_NAME on every call.
 */
export function useIsolatedTable(): void {
  const previous = process.env.TABLE_NAME;
  beforeAll(async () => {
    const name = `isolated-${randomUUID()}`;
    await createTable(new DynamoDBClient({ endpoint: process.env.DYNAMODB_ENDPOINT }), name);
    process.env.TABLE_NAME = name;
  });
  afterAll(() => {
    process.env.TABLE_NAME = previous;
  });
}

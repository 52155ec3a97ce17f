import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { TABLE_SCHEMA } from './table-schema.js';

export interface CreateTableOptions {
  /** How long to wait for the table and its indexes to become ACTIVE (default 60 s). */
  timeoutMs?: number;
}

/**
 * Creates the single table from TABLE_SCHEMA (the same definition the CDK construct uses), enables
 * TTL and waits until the table and every GSI are ACTIVE. Idempotent: an existing table is kept
 * (a persistent local database survives restarts), and TTL is only switched on when it is off.
 * Used by the local runtime and the test harness; the deployed table is created by CDK.
 *
 * @returns whether this call created the table.
 */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  options: CreateTableOptions = {},
): Promise<{ created: boolean }> {
  const { partitionKey, sortKey, globalIndexes, ttlAttribute } = TABLE_SCHEMA;
  const keyNames = new Set<string>([partitionKey, sortKey]);
  for (const index of globalIndexes) {
    keyNames.add(index.partitionKey);
    keyNames.add(index.sortKey);
  }
  // Every key attribute of the table and its indexes is a string (entity-prefixed ids, ISO times).
  const attributeDefinitions: AttributeDefinition[] = [...keyNames].map((name) => ({
    AttributeName: name,
    AttributeType: 'S',
  }));

  let created = false;
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions,
        KeySchema: [
          { AttributeName: partitionKey, KeyType: 'HASH' },
          { AttributeName: sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: globalIndexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
    created = true;
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }

  await waitUntilActive(client, tableName, options.timeoutMs ?? 60_000);

  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl.TimeToLiveDescription?.TimeToLiveStatus;
  // UpdateTimeToLive fails with a ValidationException when TTL is already on, so ask first.
  if (status !== 'ENABLED' && status !== 'ENABLING') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: ttlAttribute, Enabled: true },
      }),
    );
  }
  return { created };
}

async function waitUntilActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // DynamoDB Local is ACTIVE at once; real DynamoDB takes seconds, so back off up to 2 s.
  for (let delay = 50; ; delay = Math.min(delay * 2, 2_000)) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() + delay > deadline) {
      throw new Error(
        `table ${tableName} is not ACTIVE after ${timeoutMs} ms (status ${Table?.TableStatus})`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

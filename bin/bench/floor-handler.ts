/**
 * The cold-start floor of issue 8: the smallest useful function this stack could deploy — the
 * DynamoDB document client and one GetItem. The bundles bench builds it exactly like the real
 * functions and reports every function's cold module-init as a multiple of this one's.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: { pk?: string }): Promise<{ found: boolean }> => {
  const out = await ddb.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: { PK: event.pk ?? 'FLOOR', SK: 'FLOOR' } }));
  return { found: out.Item !== undefined };
};

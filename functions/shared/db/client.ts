import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.js';
import { traced } from '../observability.js';

/** One DocumentClient per process, created at module scope and reused across invocations. */
export const ddb = DynamoDBDocumentClient.from(
  traced(
    new DynamoDBClient({
      ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint } : {}),
      maxAttempts: 3,
    }),
  ),
  { marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false } },
);

export const tableName = (): string => config.tableName;

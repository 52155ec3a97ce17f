/**
 * The cold-start floor (README "Capacity and cost"): the smallest useful function this stack could deploy — the
 * DynamoDB document client and one GetItem — built the same way as the real functions: the same
 * bundling (the bundles bench), and inside Lambda the same X-Ray instrumentation of its client
 * (Powertools Tracer, as functions/shared/observability.ts loads it), so that both sides of the
 * ratio pay for what every deployed function of the stack pays for.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

const inLambda = (process.env.AWS_EXECUTION_ENV ?? '').startsWith('AWS_Lambda_');
const tracer = inLambda ? new (await import('@aws-lambda-powertools/tracer')).Tracer() : undefined;
const client = new DynamoDBClient({});
const ddb = DynamoDBDocumentClient.from(tracer ? tracer.captureAWSv3Client(client) : client);

export const handler = async (event: { pk?: string }): Promise<{ found: boolean }> => {
  const out = await ddb.send(new GetCommand({ TableName: process.env.TABLE_NAME, Key: { PK: event.pk ?? 'FLOOR', SK: 'FLOOR' } }));
  return { found: out.Item !== undefined };
};

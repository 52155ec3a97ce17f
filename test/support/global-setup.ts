import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { TestProject } from 'vitest/node';
import { LOCAL_AWS_ENV, startDynamoDbLocal } from '../../bin/support/dynamodb-local.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConsole } from '../../functions/console/build.js';
import { createTable } from '../../functions/shared/db/create-table.js';
import { TEST_TABLE_NAME } from './constants.js';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamodbEndpoint: string;
    tableName: string;
    consoleAssetsDir: string;
  }
}

/**
 * Runs once per `vitest` run, before any worker: starts ONE DynamoDB Local (in memory, free port)
 * and creates the table from TABLE_SCHEMA, the definition CDK deploys. Workers read the endpoint
 * and table name through inject() in setup-env.ts.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = Date.now();
  const ddb = await startDynamoDbLocal();
  const client = new DynamoDBClient({
    endpoint: ddb.endpoint,
    region: LOCAL_AWS_ENV.AWS_REGION,
    credentials: {
      accessKeyId: LOCAL_AWS_ENV.AWS_ACCESS_KEY_ID,
      secretAccessKey: LOCAL_AWS_ENV.AWS_SECRET_ACCESS_KEY,
    },
  });
  try {
    await createTable(client, TEST_TABLE_NAME);
  } catch (err) {
    await ddb.stop();
    throw err;
  } finally {
    client.destroy();
  }
  if (process.env.TEST_TIMINGS) {
    console.log(
      `DynamoDB Local ready in ${ddb.startupMs} ms, table in ${Date.now() - started - ddb.startupMs} ms`,
    );
  }
  // The console group serves a build: one for the whole run, as the local runtime does at start.
  const consoleAssetsDir = mkdtempSync(join(tmpdir(), 'console-assets-'));
  await buildConsole(consoleAssetsDir);
  project.provide('dynamodbEndpoint', ddb.endpoint);
  project.provide('tableName', TEST_TABLE_NAME);
  project.provide('consoleAssetsDir', consoleAssetsDir);
  return async () => {
    rmSync(consoleAssetsDir, { recursive: true, force: true });
    await ddb.stop();
  };
}

import { inject } from 'vitest';
import { TEST_ADMIN_TOKEN } from './constants.js';

/**
 * Runs in every worker before each test file's modules load: function code reads its environment
 * at module scope (typed config, Powertools logger), so the environment must exist first.
 * Fixed values on purpose: a developer's shell (a real TABLE_NAME, AWS profile) must not leak in.
 */
Object.assign(process.env, {
  DYNAMODB_ENDPOINT: inject('dynamodbEndpoint'),
  TABLE_NAME: inject('tableName'),
  CONSOLE_ASSETS_DIR: inject('consoleAssetsDir'),
  ADMIN_TOKEN: TEST_ADMIN_TOKEN,
  VALIDATE_RESPONSES: '1',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_ACCESS_KEY_ID: 'local',
  AWS_SECRET_ACCESS_KEY: 'local',
  AWS_REGION: 'us-east-1',
  // The SDK checks for exactly 'true' ('1' still prints its Node 22 notice).
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  // Powertools idempotency keys and the Lambda context use it.
  AWS_LAMBDA_FUNCTION_NAME: 'test',
});
// A shell's AWS_PROFILE / session token would otherwise take part in credential resolution.
delete process.env.AWS_PROFILE;
delete process.env.AWS_SESSION_TOKEN;

/** The admin token every test process uses (setup-env.ts puts it in ADMIN_TOKEN). Test-only. */
export const TEST_ADMIN_TOKEN = 'test-admin-token-00000000000000000000000000000000';

/** One table per test run, in the run's own DynamoDB Local; tests keep apart by unique ids. */
export const TEST_TABLE_NAME = 'spot-optimizer-test';

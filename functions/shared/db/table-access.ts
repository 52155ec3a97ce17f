/**
 * What a function may do with the table, declared once per endpoint group (GROUP_TABLE_ACCESS in
 * shared/http/route.ts), per job (`table` in jobs/job-table.ts) and for the two other functions
 * below; lib/constructs/app-function.ts grants exactly the IAM actions of the declared level, the
 * infrastructure test checks the template against it, and the table-access safety test checks that
 * every route only sends commands its level allows.
 *
 * There is no Scan at any level (every access pattern is a GetItem or a Query on a documented key,
 * README "Access patterns"), no DescribeTable, no PartiQL, no stream reads, no ConditionCheckItem (no
 * transaction uses a bare condition check). A TransactWriteItems needs the action of each of its
 * parts (Put, Update, Delete), which `readWrite` has.
 */
export const TABLE_ACTIONS = {
  none: [],
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
} as const satisfies Record<string, readonly string[]>;

export type TableAccess = keyof typeof TABLE_ACTIONS;

/** The functions that are neither an endpoint group nor a job. */
export const OTHER_FUNCTION_TABLE_ACCESS = {
  /** The EventBridge consumer of EC2 signals: incidents, commands, promotions. */
  'ec2-events': 'readWrite',
  /** Serves the OpenAPI document, generated from the route table: no data. */
  'openapi': 'none',
} as const satisfies Record<string, TableAccess>;

/**
 * The IAM actions a DynamoDB command (as the SDK names it) needs; a transaction needs those of its
 * parts. Used by the tests that check a function's commands against its declared level.
 */
export function actionsOf(command: string, input: Readonly<Record<string, unknown>>): string[] {
  const name = command.replace(/Command$/, '');
  if (name !== 'TransactWriteItems') return [`dynamodb:${name}`];
  const parts = (input.TransactItems ?? []) as Record<string, unknown>[];
  return [...new Set(parts.flatMap((p) => Object.keys(p).map((k) => `dynamodb:${k === 'ConditionCheck' ? 'ConditionCheckItem' : `${k}Item`}`)))];
}

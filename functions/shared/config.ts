/**
 * Typed environment, read once per process. A missing required variable throws at first use with
 * its name, instead of failing later with an undefined table name.
 */
function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`missing environment variable ${name}`);
  return value;
}

export const config = {
  get tableName(): string {
    return required('TABLE_NAME');
  },
  /** Set only for DynamoDB Local (local runtime and tests). */
  get dynamodbEndpoint(): string | undefined {
    return process.env.DYNAMODB_ENDPOINT || undefined;
  },
  /** Local runtime / tests: the admin token itself (hashed at first use, never logged). */
  get adminToken(): string | undefined {
    return process.env.ADMIN_TOKEN || undefined;
  },
  /** Deployed: the Secrets Manager secret holding the admin token. */
  get adminTokenSecretArn(): string | undefined {
    return process.env.ADMIN_TOKEN_SECRET_ARN || undefined;
  },
  get version(): string {
    return process.env.APP_VERSION ?? '1.0.0';
  },
  /** Tests set this so every response is checked against its route's response schema. */
  get validateResponses(): boolean {
    return process.env.VALIDATE_RESPONSES === '1';
  },
  get stackAccount(): string | undefined {
    return process.env.STACK_ACCOUNT || undefined;
  },
  get dlqUrl(): string | undefined {
    return process.env.EVENTS_DLQ_URL || undefined;
  },
};

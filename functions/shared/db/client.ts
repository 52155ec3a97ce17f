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

/** One DynamoDB call as a hook sees it: the command (`PutCommand`, `QueryCommand`…) and its input. */
export interface DbCall {
  readonly command: string;
  /** The document-client input (plain values, not AttributeValues), before marshalling. */
  readonly input: Readonly<Record<string, unknown>>;
}

/**
 * Wraps every call of the shared client: `send` performs the call (with the input given, which may
 * differ from `call.input`) and resolves to its output. A hook may observe, rewrite the input or
 * output, delay, or throw instead of calling `send`.
 */
export type DbHook = (
  call: DbCall,
  send: (input: Record<string, unknown>) => Promise<Record<string, unknown>>,
) => Promise<Record<string, unknown>>;

/**
 * Installs `hook` around every DynamoDB call made through `ddb` (benchmarks count capacity with it;
 * tests can inject faults). Nothing is installed otherwise, so the seam costs nothing in Lambda.
 * Returns the function that removes it; a second hook with the same name replaces the first.
 */
export function addDbHook(name: string, hook: DbHook): () => void {
  ddb.middlewareStack.add(
    (next, context) => async (args) => {
      let response: unknown;
      const output = await hook(
        { command: String(context.commandName ?? 'unknown'), input: args.input as Record<string, unknown> },
        async (input) => {
          const result = await next({ ...args, input: input as typeof args.input });
          response = result.response;
          return result.output as Record<string, unknown>;
        },
      );
      return { response, output } as Awaited<ReturnType<typeof next>>;
    },
    // `initialize`: once per call (not per retry), before lib-dynamodb marshals the input.
    { step: 'initialize', name, override: true },
  );
  return () => {
    ddb.middlewareStack.remove(name);
  };
}

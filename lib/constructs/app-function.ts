import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { TABLE_ACTIONS, type TableAccess } from '../../functions/shared/db/table-access.js';

/** Repository root: entries, the lock file and package.json are resolved from here, not from the cwd. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const PACKAGE_VERSION: string = JSON.parse(readFileSync(`${REPO_ROOT}package.json`, 'utf8')).version;

/** The newest Node.js runtime aws-cdk-lib 2.276 knows (cdk-nag L1 compares against `Runtime.ALL`). */
export const NODE_RUNTIME = Runtime.NODEJS_24_X;

/** API.md §1.1: HTTP Lambdas time out at 25 s or less, because the v4 agent gives up at 30 s. */
export const HTTP_TIMEOUT = Duration.seconds(25);

/** Powertools metrics namespace shared by every function. */
export const METRICS_NAMESPACE = 'SpotOptimizer';

// esbuild's ESM output has no `require`; CJS dependencies that call it need one made from import.meta.
const ESM_REQUIRE_BANNER =
  "import { createRequire as __appCreateRequire } from 'node:module';" +
  'const require = __appCreateRequire(import.meta.url);';

/** `NODE_OPTIONS` of every function (source-mapped stack traces). */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** How every function is bundled; the bundles bench (bin/bench/bundles.ts) builds with the same options. */
export const FUNCTION_BUNDLING = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  minify: true,
  sourceMap: true,
  // Stack traces need file:line, not the sources themselves: keeps the zip small.
  sourcesContent: false,
  // Ship the SDK version the tests ran against instead of whatever the runtime bundles.
  bundleAwsSDK: true,
} as const satisfies BundlingOptions;

export interface AppFunctionProps {
  /** Handler file relative to the repository root, e.g. `functions/agents/handler.ts` (export `handler`). */
  readonly entry: string;
  /** `POWERTOOLS_SERVICE_NAME`: the `service` of every log line and metric. */
  readonly serviceName: string;
  readonly logRetention: RetentionDays;
  readonly description?: string;
  /** @default HTTP_TIMEOUT (25 s) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  readonly environment?: Record<string, string>;
  /** Shell commands run after esbuild, with the bundle's output folder (the console copies its assets there). */
  readonly afterBundling?: (inputDir: string, outputDir: string) => string[];
  /**
   * Modules (paths under functions/, `.ts`) the code imports on first use through a run-time path:
   * each is bundled on its own beside index.mjs as `<basename>.mjs` (bin/bundle-lazy.ts), so the
   * function's cold start does not parse it.
   */
  readonly lazyModules?: readonly string[];
  /** Concurrency reserved for this function (guaranteed, and its ceiling); 0 or undefined: none. */
  readonly reservedConcurrency?: number;
}

/** The file a lazily imported module becomes beside index.mjs: its base name, `.mjs`. */
export const lazyBundleName = (module: string): string => `${module.slice(module.lastIndexOf('/') + 1).replace(/\.ts$/, '')}.mjs`;

/** After-bundling commands building each lazy module with the stack's options (bin/bundle-lazy.ts). */
function lazyBundleCommands(modules: readonly string[]) {
  return (inputDir: string, outputDir: string): string[] =>
    modules.map(
      (m) =>
        `node --import tsx ${JSON.stringify(`${inputDir}/bin/bundle-lazy.ts`)} ${JSON.stringify(`${inputDir}/functions/${m}`)} ${JSON.stringify(`${outputDir}/${lazyBundleName(m)}`)}`,
    );
}

/**
 * The project's one Lambda shape: Node (newest runtime) on ARM64, an ESM bundle built by the local
 * esbuild with source maps, X-Ray tracing, its own log group with a retention, and the Powertools
 * environment. Table and secret access go through `bindTable` / `bindSecret`, which grant and set the
 * environment variable the code reads together, so neither can be forgotten.
 */
export class AppFunction extends NodejsFunction {
  /** Its POWERTOOLS_SERVICE_NAME: the `service` dimension of its metrics. */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    const hooks = [props.afterBundling, props.lazyModules?.length ? lazyBundleCommands(props.lazyModules) : undefined].filter(
      (h): h is (inputDir: string, outputDir: string) => string[] => h !== undefined,
    );
    const afterBundling = hooks.length ? (inputDir: string, outputDir: string) => hooks.flatMap((h) => h(inputDir, outputDir)) : undefined;
    // The log group is a sibling (created before super), so it keeps a stable logical id of its own.
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention });
    super(scope, id, {
      entry: `${REPO_ROOT}${props.entry}`,
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      runtime: NODE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? HTTP_TIMEOUT,
      tracing: Tracing.ACTIVE,
      logGroup,
      ...(props.reservedConcurrency ? { reservedConcurrentExecutions: props.reservedConcurrency } : {}),
      ...(props.description ? { description: props.description } : {}),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
        APP_VERSION: scope.node.tryGetContext('appVersion') ?? PACKAGE_VERSION,
        ...props.environment,
      },
      bundling: {
        ...FUNCTION_BUNDLING,
        mainFields: [...FUNCTION_BUNDLING.mainFields],
        ...(afterBundling ? { commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling } } : {}),
      },
    });
    this.serviceName = props.serviceName;

    const role = this.role;
    if (role) {
      Validations.of(role).acknowledge(
        {
          id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
          reason:
            'The AWS-managed basic execution role only lets the function write its own CloudWatch logs.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions, so tracing needs *.',
        },
      );
    }
  }

  /**
   * Grants exactly the DynamoDB actions of the declared table access (functions/shared/db/
   * table-access.ts: no Scan, no DescribeTable, no streams) on the table and its indexes, and sets
   * `TABLE_NAME` (functions/shared/config.ts) — in one step. `none` grants nothing and sets nothing.
   */
  bindTable(table: ITable, access: TableAccess): this {
    if (access === 'none') return this;
    this.addToRolePolicy(
      new PolicyStatement({ actions: [...TABLE_ACTIONS[access]], resources: [table.tableArn, `${table.tableArn}/index/*`] }),
    );
    this.addEnvironment('TABLE_NAME', table.tableName);
    const cfnTable = table.node.defaultChild as CfnElement | undefined;
    if (cfnTable && this.role) {
      const tableId = Stack.of(table).getLogicalId(cfnTable);
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${tableId}.Arn>/index/*]`,
        reason: "The table's own GSIs (index/*), which the repositories query: the same actions as on the table.",
      });
    }
    return this;
  }

  /** Grants read of the admin token secret and sets `ADMIN_TOKEN_SECRET_ARN` in one step. */
  bindSecret(secret: ISecret): this {
    secret.grantRead(this);
    this.addEnvironment('ADMIN_TOKEN_SECRET_ARN', secret.secretArn);
    return this;
  }
}

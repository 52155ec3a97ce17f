import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ControlPlaneApi } from './constructs/http-api.js';
import { DataTable } from './constructs/data-table.js';
import { InterruptionRules } from './constructs/interruption-rules.js';
import { Schedules } from './constructs/schedules.js';

/** API.md §1.1: 1,000 agents of the v4 call mix send about 200 rps; 2,000/4,000 leaves headroom. */
export const DEFAULT_THROTTLE = { rate: 2000, burst: 4000 } as const;

export interface AppStackProps extends StackProps {
  /** Stage throttling, requests per second and burst. @default DEFAULT_THROTTLE */
  readonly throttle?: { readonly rate: number; readonly burst: number };
  /** Other AWS accounts that may forward their `aws.ec2` events to this account's default bus. */
  readonly allowedEventAccounts?: readonly string[];
  /** Retention of every function's and the API's access log group. @default one month */
  readonly logRetention?: RetentionDays;
  /** Other origins allowed to call the API from a browser (CORS); default: context `corsOrigins`, else none. */
  readonly corsOrigins?: readonly string[];
}

/** The control plane: table → HTTP API → EC2 event rules → scheduled jobs. Composition only. */
export class AppStack extends Stack {
  constructor(scope: Construct, id: string, props: AppStackProps = {}) {
    super(scope, id, {
      description: 'Spot Optimizer control plane (HTTP API, EC2 event consumer, scheduled jobs)',
      ...props,
    });
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    const { table } = new DataTable(this, 'Data');

    const adminSecret = new Secret(this, 'AdminToken', {
      description: 'Spot Optimizer admin bearer token (API.md §1.1)',
      generateSecretString: { excludePunctuation: true, passwordLength: 48 },
    });
    Validations.of(adminSecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the admin token would silently lock out every admin client holding it; it is rotated by hand.',
    });

    const api = new ControlPlaneApi(this, 'Http', {
      table,
      adminSecret,
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      logRetention,
      ...(props.corsOrigins ? { corsOrigins: props.corsOrigins } : {}),
    });

    const events = new InterruptionRules(this, 'Ec2Events', {
      table,
      logRetention,
      ...(props.allowedEventAccounts ? { allowedEventAccounts: props.allowedEventAccounts } : {}),
    });
    // system-health (admin group) reports the DLQ's depth.
    events.bindDlqDepthReader(api.groupFunctions.admin);

    new Schedules(this, 'Jobs', { table, logRetention });

    new CfnOutput(this, 'ApiUrl', {
      value: api.url,
      description: 'Base URL of the HTTP API ($default stage)',
    });
    new CfnOutput(this, 'AdminTokenSecretArn', {
      value: adminSecret.secretArn,
      description: 'Secrets Manager secret holding the admin token',
    });
    new CfnOutput(this, 'TableName', { value: table.tableName, description: 'The single DynamoDB table' });
  }
}

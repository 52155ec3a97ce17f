import { CfnOutput, Stack, Validations } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { JOBS } from '../functions/jobs/job-table.js';
import { AppFunction } from './constructs/app-function.js';
import { ControlPlaneApi } from './constructs/http-api.js';
import { DataTable } from './constructs/data-table.js';
import { InterruptionRules } from './constructs/interruption-rules.js';
import { Monitoring } from './constructs/monitoring.js';
import { Schedules } from './constructs/schedules.js';
import {
  DEFAULT_AGENT_RESERVED_CONCURRENCY,
  DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY,
  DEFAULT_LOG_LEVEL,
  DEFAULT_THROTTLE,
  type LogLevel,
} from './settings.js';

export { DEFAULT_THROTTLE };

export interface AppStackProps extends StackProps {
  /** Stage throttling, requests per second and burst. @default DEFAULT_THROTTLE */
  readonly throttle?: { readonly rate: number; readonly burst: number };
  /** Other AWS accounts that may forward their EC2/Health events (ForwarderStack) to this account's default bus. */
  readonly allowedEventAccounts?: readonly string[];
  /** An AWS Organizations id whose accounts may all forward events. */
  readonly eventOrganizationId?: string;
  /** Retention of every function's and the API's access log group. @default one month */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL of every function. @default INFO */
  readonly logLevel?: LogLevel;
  /** Subscribed to the alarm topic by email. @default no subscription */
  readonly alarmEmail?: string;
  /** Other origins allowed to call the API from a browser (CORS); default: context `corsOrigins`, else none. */
  readonly corsOrigins?: readonly string[];
  /** Reserved concurrency of each agent-facing Lambda (0: none). @default DEFAULT_AGENT_RESERVED_CONCURRENCY */
  readonly agentReservedConcurrency?: number;
  /** Reserved concurrency of the EC2 events consumer (0: none). @default DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY */
  readonly ec2EventsReservedConcurrency?: number;
}

/**
 * The control plane: table → HTTP API → EC2 event rules → scheduled jobs → alarms and dashboard.
 * Composition only. The logical ids of the stateful resources (table, admin token secret, DLQ) are
 * pinned by test/infra/upgrade.test.ts: renaming a construct on their path would replace them.
 */
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
      agentReservedConcurrency: props.agentReservedConcurrency ?? DEFAULT_AGENT_RESERVED_CONCURRENCY,
      logRetention,
      ...(props.corsOrigins ? { corsOrigins: props.corsOrigins } : {}),
    });

    const events = new InterruptionRules(this, 'Ec2Events', {
      table,
      logRetention,
      reservedConcurrency: props.ec2EventsReservedConcurrency ?? DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY,
      ...(props.allowedEventAccounts ? { allowedEventAccounts: props.allowedEventAccounts } : {}),
      ...(props.eventOrganizationId ? { eventOrganizationId: props.eventOrganizationId } : {}),
    });
    // system-health (admin group) reports the DLQ's depth.
    events.bindDlqDepthReader(api.groupFunctions.admin);

    new Schedules(this, 'Jobs', { table, logRetention });

    // Every function of the stack, by service name: one log level for all, alarms for each.
    const functions = Object.fromEntries(
      this.node
        .findAll()
        .filter((c): c is AppFunction => c instanceof AppFunction)
        .map((fn) => [fn.serviceName, fn]),
    );
    for (const fn of Object.values(functions)) fn.addEnvironment('POWERTOOLS_LOG_LEVEL', props.logLevel ?? DEFAULT_LOG_LEVEL);

    const monitoring = new Monitoring(this, 'Monitoring', {
      api: api.api,
      table,
      deadLetterQueue: events.deadLetterQueue,
      rules: events.rules,
      functions,
      jobs: JOBS,
      ...(props.alarmEmail ? { alarmEmail: props.alarmEmail } : {}),
    });

    const outputs: Record<string, [value: string, description: string]> = {
      ApiUrl: [api.url, 'Base URL of the HTTP API ($default stage)'],
      AdminTokenSecretArn: [adminSecret.secretArn, 'Secrets Manager secret holding the admin token'],
      TableName: [table.tableName, 'The single DynamoDB table'],
      EventBusArn: [events.busArn, 'Bus the EC2 rules listen on: the TargetEventBusArn parameter of every forwarder'],
      DeadLetterQueueUrl: [events.deadLetterQueue.queueUrl, 'EC2 events that failed (npm run dlq -- list)'],
      Ec2EventsFunctionArn: [events.consumer.functionArn, 'The EC2 events consumer (npm run dlq -- redrive invokes it)'],
      AlarmTopicArn: [monitoring.topic.topicArn, 'SNS topic every alarm notifies (subscribe pagers/chat here)'],
      DashboardName: [monitoring.dashboard.dashboardName, 'CloudWatch operations dashboard'],
    };
    for (const [id, [value, description]] of Object.entries(outputs)) new CfnOutput(this, id, { value, description });
  }
}

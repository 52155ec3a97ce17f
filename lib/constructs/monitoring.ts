import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IMetric, IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Operation } from 'aws-cdk-lib/aws-dynamodb';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { Rule } from 'aws-cdk-lib/aws-events';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Construct } from 'constructs';
import type { JobDef } from '../../functions/jobs/job-table.js';
import { METRICS_NAMESPACE } from './app-function.js';
import type { AppFunction } from './app-function.js';

/** Alarm thresholds (lib/OPERATIONS.md § Alarms says what to do when each fires). */
export const HTTP_5XX_PERCENT = 1;
/** Fewer requests than this in 5 minutes: a 5xx rate says nothing (one error of 3 is not an outage). */
export const HTTP_5XX_MIN_REQUESTS = 20;
const FIVE_MINUTES = Duration.minutes(5);
const DAY_SECONDS = 86_400;

/**
 * The period of a schedule expression in seconds: `rate(N minute|minutes|hour|hours|day|days)`, or a
 * `cron(...)` firing once a day (fixed minute and hour, every day). Anything else throws, so a job
 * added with an exotic schedule gets a deliberate alarm instead of a wrong one.
 */
export function schedulePeriodSeconds(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const unit = rate[2]!.startsWith('minute') ? 60 : rate[2]!.startsWith('hour') ? 3600 : DAY_SECONDS;
    return Number(rate[1]) * unit;
  }
  if (/^cron\(\d+ \d+ \* \* \? \*\)$/.test(expression)) return DAY_SECONDS;
  throw new Error(`cannot derive a period from schedule "${expression}"`);
}

/** EMF metrics reach CloudWatch up to a few minutes late: a shorter window would page on delivery delay. */
export const MIN_JOB_ALARM_WINDOW_SECONDS = 300;

/**
 * How a "no success within twice the period" alarm is evaluated (at least 5 minutes). CloudWatch
 * allows at most one day of evaluation for periods under an hour and at most 7 days otherwise, so
 * a window beyond a day is split into daily periods that must all be empty (M of N = N).
 */
export function jobAlarmWindow(periodSeconds: number): { period: number; evaluationPeriods: number } {
  const window = Math.max(2 * periodSeconds, MIN_JOB_ALARM_WINDOW_SECONDS);
  if (window <= DAY_SECONDS) return { period: window, evaluationPeriods: 1 };
  return { period: DAY_SECONDS, evaluationPeriods: Math.ceil(window / DAY_SECONDS) };
}

/** Anchors of lib/OPERATIONS.md § Alarms (a test checks each exists in the manual). */
export const RUNBOOKS = [
  'alarm-ec2-events-dlq',
  'alarm-http-5xx-rate',
  'alarm-lambda-errors',
  'alarm-lambda-throttles',
  'alarm-dynamodb-throttles',
  'alarm-job-not-succeeding',
  'alarm-rule-failed-invocations',
  'alarm-scheduler-dropped-invocations',
  'alarm-forwarder-dlq',
] as const;
type Runbook = (typeof RUNBOOKS)[number];

/** An EMF metric the functions emit (Powertools: namespace SpotOptimizer, dimension `service`). */
export const appMetric = (metricName: string, service: string, statistic = 'Sum', period = FIVE_MINUTES): Metric =>
  new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap: { service }, statistic, period });

/**
 * An EMF metric summed over every service that emits it (the same flow runs in several functions:
 * an interruption is handled by ec2-events, the emergency routes or a job). Dashboards only: alarms
 * cannot use SEARCH.
 */
export const acrossServices = (metricName: string, label: string, statistic = 'Sum', period = FIVE_MINUTES): MathExpression =>
  new MathExpression({
    expression: `SUM(SEARCH('{${METRICS_NAMESPACE},service} MetricName="${metricName}"', '${statistic}', ${period.toSeconds()}))`,
    usingMetrics: {},
    label,
    period,
  });

/** One series per service (e.g. the errors of each endpoint group). */
const perService = (metricName: string, statistic: string, period = FIVE_MINUTES): MathExpression =>
  new MathExpression({
    expression: `SEARCH('{${METRICS_NAMESPACE},service} MetricName="${metricName}"', '${statistic}', ${period.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period,
  });

export interface MonitoringProps {
  readonly api: HttpApi;
  readonly table: ITable;
  /** The EC2 events dead-letter queue. */
  readonly deadLetterQueue: IQueue;
  /** The EC2 event rules, by construct id. */
  readonly rules: Record<string, Rule>;
  /** Every Lambda of the stack, by service name. */
  readonly functions: Record<string, AppFunction>;
  /** The scheduled jobs and their functions. */
  readonly jobs: readonly JobDef[];
  readonly alarmEmail?: string;
}

/**
 * Alarms → one SNS topic (optionally an email subscription), and one operations dashboard. Every
 * alarm has a stable name `<stack>-<what>` and a description pointing at the runbook.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const stackName = Stack.of(this).stackName;

    // CloudWatch can publish to an encrypted topic only with a customer managed key that lets it.
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the Spot Optimizer alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: `Spot Optimizer alarms (${stackName})`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const alarm = (
      name: string,
      runbook: Runbook,
      description: string,
      metric: IMetric,
      options: {
        threshold?: number;
        comparison?: ComparisonOperator;
        evaluationPeriods?: number;
        datapointsToAlarm?: number;
        missing?: TreatMissingData;
      } = {},
    ): Alarm => {
      const created = new Alarm(this, name, {
        alarmName: `${stackName}-${name}`,
        alarmDescription: `${description} Runbook: lib/OPERATIONS.md#${runbook}`,
        metric,
        threshold: options.threshold ?? 0,
        comparisonOperator: options.comparison ?? ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: options.evaluationPeriods ?? 1,
        ...(options.datapointsToAlarm ? { datapointsToAlarm: options.datapointsToAlarm } : {}),
        treatMissingData: options.missing ?? TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      this.alarms.push(created);
      return created;
    };

    alarm(
      'Ec2EventsDlq',
      'alarm-ec2-events-dlq',
      'EC2 events that could not be delivered or processed are waiting in the dead-letter queue.',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum' }),
    );

    alarm(
      'Http5xxRate',
      'alarm-http-5xx-rate',
      `More than ${HTTP_5XX_PERCENT}% of HTTP API requests answered 5xx in 2 of the last 3 five-minute periods.`,
      new MathExpression({
        expression: `IF(requests >= ${HTTP_5XX_MIN_REQUESTS}, 100 * FILL(errors, 0) / requests, 0)`,
        usingMetrics: {
          errors: props.api.metricServerError({ period: FIVE_MINUTES, statistic: 'Sum' }),
          requests: props.api.metricCount({ period: FIVE_MINUTES, statistic: 'Sum' }),
        },
        label: '5xx %',
        period: FIVE_MINUTES,
      }),
      { threshold: HTTP_5XX_PERCENT, evaluationPeriods: 3, datapointsToAlarm: 2 },
    );

    const pascal = (s: string) => s.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase());
    for (const [service, fn] of Object.entries(props.functions)) {
      alarm(`${pascal(service)}Errors`, 'alarm-lambda-errors', `The ${service} function failed (uncaught error or timeout).`,
        fn.metricErrors({ period: FIVE_MINUTES, statistic: 'Sum' }));
      alarm(`${pascal(service)}Throttles`, 'alarm-lambda-throttles', `Invocations of the ${service} function were throttled (concurrency limit).`,
        fn.metricThrottles({ period: FIVE_MINUTES, statistic: 'Sum' }));
    }

    alarm(
      'DynamoDbThrottles',
      'alarm-dynamodb-throttles',
      'Requests to the table were throttled.',
      props.table.metricThrottledRequestsForOperations({
        operations: [
          Operation.GET_ITEM,
          Operation.BATCH_GET_ITEM,
          Operation.QUERY,
          Operation.PUT_ITEM,
          Operation.UPDATE_ITEM,
          Operation.DELETE_ITEM,
          Operation.BATCH_WRITE_ITEM,
          Operation.TRANSACT_WRITE_ITEMS,
          Operation.TRANSACT_GET_ITEMS,
        ],
        period: FIVE_MINUTES,
      }),
    );

    for (const job of props.jobs) {
      const { period, evaluationPeriods } = jobAlarmWindow(schedulePeriodSeconds(job.schedule));
      // No data means no success: a job that stopped running alarms as surely as one that fails.
      alarm(
        `${pascal(job.name)}NotSucceeding`,
        'alarm-job-not-succeeding',
        `The ${job.name} job (${job.schedule}) has not succeeded for twice its period.`,
        appMetric('JobSucceeded', job.name, 'Sum', Duration.seconds(period)),
        {
          threshold: 1,
          comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods,
          datapointsToAlarm: evaluationPeriods,
          missing: TreatMissingData.BREACHING,
        },
      );
    }

    for (const [ruleId, rule] of Object.entries(props.rules)) {
      alarm(
        `${ruleId}FailedInvocations`,
        'alarm-rule-failed-invocations',
        `EventBridge could not invoke the ec2-events function for rule ${ruleId}.`,
        new Metric({
          namespace: 'AWS/Events',
          metricName: 'FailedInvocations',
          dimensionsMap: { RuleName: rule.ruleName },
          statistic: 'Sum',
          period: FIVE_MINUTES,
        }),
      );
    }
    alarm(
      'SchedulerDroppedInvocations',
      'alarm-scheduler-dropped-invocations',
      'EventBridge Scheduler dropped job invocations after exhausting its retries.',
      new Metric({
        namespace: 'AWS/Scheduler',
        metricName: 'InvocationDroppedCount',
        dimensionsMap: { ScheduleGroup: 'default' },
        statistic: 'Sum',
        period: FIVE_MINUTES,
      }),
    );

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: `${stackName}-operations`,
      widgets: dashboardRows(props, this.alarms),
    });
  }
}

function dashboardRows(props: MonitoringProps, alarms: Alarm[]): IWidget[][] {
  const graph = (title: string, left: IMetric[], width = 8, extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {}) =>
    new GraphWidget({ title, left, width, height: 6, ...extra });
  const minute = Duration.minutes(1);
  return [
    [
      new TextWidget({
        markdown:
          '# Spot Optimizer control plane\nAgents, interruptions, money and API health. Alarms and their runbooks: lib/OPERATIONS.md.',
        width: 24,
        height: 2,
      }),
    ],
    [
      new SingleValueWidget({
        title: 'Agents online',
        metrics: [appMetric('AgentsOnline', 'agent-heartbeat-timeout', 'Maximum', FIVE_MINUTES).with({ label: 'online agents' })],
        width: 4,
        height: 6,
      }),
      graph('Agents online', [appMetric('AgentsOnline', 'agent-heartbeat-timeout', 'Maximum', FIVE_MINUTES)], 10),
      graph('Heartbeats per minute', [appMetric('Heartbeat', 'agents', 'Sum', minute).with({ label: 'heartbeats/min' })], 10),
    ],
    [
      graph('Interruptions handled', [acrossServices('IncidentHandled', 'incidents handled')]),
      graph('Event → command latency (ms)', [
        perService('InterruptionCommandLatency', 'p50'),
        perService('InterruptionCommandLatency', 'p99'),
      ]),
      graph('Promotions and switches', [
        acrossServices('ReplicaPromoted', 'replicas promoted'),
        acrossServices('SwitchCompleted', 'switches completed'),
      ]),
    ],
    [
      graph('Savings accrued (USD per hour)', [acrossServices('SavingsAccruedUsd', 'USD', 'Sum', Duration.hours(1))]),
      graph('API latency (ms)', [
        props.api.metricLatency({ statistic: 'p50', period: FIVE_MINUTES, label: 'p50' }),
        props.api.metricLatency({ statistic: 'p99', period: FIVE_MINUTES, label: 'p99' }),
      ]),
      graph('Errors per group (5xx answered)', [perService('ServerError', 'Sum')], 8, {
        right: [props.api.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES, label: 'gateway 5xx' })],
      }),
    ],
    [
      graph('EC2 events', [
        acrossServices('Ec2EventProcessed', 'processed'),
        acrossServices('Ec2EventDuplicate', 'duplicates'),
        acrossServices('Ec2EventUnknownInstance', 'unknown instance'),
        acrossServices('Ec2EventForeignAccount', 'foreign account'),
      ], 12, {
        right: [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: FIVE_MINUTES, statistic: 'Maximum', label: 'DLQ depth' })],
      }),
      graph('Job outcomes', [perService('JobSucceeded', 'Sum'), perService('JobFailed', 'Sum')], 12),
    ],
    [new AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: Math.min(12, 2 + Math.ceil(alarms.length / 4)) })],
  ];
}

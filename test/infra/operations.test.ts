import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOBS } from '../../functions/jobs/job-table.js';
import { GROUPS } from '../../functions/shared/http/route.js';
import { AppStack } from '../../lib/app-stack.js';
import { EC2_EVENT_PATTERNS } from '../../lib/constructs/interruption-rules.js';
import { jobAlarmWindow, schedulePeriodSeconds } from '../../lib/constructs/monitoring.js';
import { ForwarderStack } from '../../lib/forwarder-stack.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped CloudFormation JSON
type Json = any;

/**
 * The operator's side of the app (lib/OPERATIONS.md): the forwarder stack, alarms, the dashboard, and the
 * stateful resources' logical ids. One synthesis of the whole app (both stacks, cdk-nag on).
 */
const ACCOUNT = '123456789012';
const EMAIL = 'oncall@example.com';
const ORG = 'o-abc123def4';
let outdir: string;
let synthError: unknown;
let main: Json;
let forwarder: Json;

const ofType = (template: Json, type: string): [string, Json][] =>
  Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
/** The one resource of a type (fails the test when there are none or several). */
const only = (template: Json, type: string): [string, Json] => {
  const found = ofType(template, type);
  expect(found, type).toHaveLength(1);
  return found[0] as [string, Json];
};

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'ops-test-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new AppStack(app, 'Ops', {
    env: { account: ACCOUNT, region: 'us-east-1' },
    alarmEmail: EMAIL,
    eventOrganizationId: ORG,
    logLevel: 'DEBUG',
  });
  const fwd = new ForwarderStack(app, 'OpsForwarder');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (error) {
    synthError = error;
  }
  main = JSON.parse(readFileSync(join(outdir, stack.templateFile), 'utf8'));
  forwarder = JSON.parse(readFileSync(join(outdir, fwd.templateFile), 'utf8'));
}, 120_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

describe('both stacks', () => {
  it('synthesise with no unacknowledged cdk-nag finding or template warning', () => {
    expect(synthError === undefined ? undefined : String(synthError)).toBeUndefined();
    const reportFile = join(outdir, 'validation-report.json');
    const violations = existsSync(reportFile)
      ? JSON.parse(readFileSync(reportFile, 'utf8')).pluginReports.flatMap((p: Json) =>
          p.violations.map((v: Json) => `${v.ruleName} @ ${v.violatingConstructs.map((c: Json) => c.constructPath)}`))
      : [];
    expect(violations).toEqual([]);
    expect(readdirSync(outdir)).toEqual(expect.arrayContaining(['Ops.template.json', 'OpsForwarder.template.json']));
  });
});

describe('forwarder stack', () => {
  it('is one environment-agnostic, bootstrap-free template whose only required parameter is the target bus', () => {
    expect(Object.keys(forwarder.Parameters).sort()).toEqual(['AlarmTopicArn', 'TargetEventBusArn']);
    expect(forwarder.Parameters.TargetEventBusArn.Default).toBeUndefined();
    expect(forwarder.Parameters.AlarmTopicArn.Default).toBe('');
    const pattern = new RegExp(forwarder.Parameters.TargetEventBusArn.AllowedPattern);
    expect(pattern.test('arn:aws:events:us-east-1:123456789012:event-bus/default')).toBe(true);
    expect(pattern.test('arn:aws:sqs:us-east-1:123456789012:queue')).toBe(false);
    // No bootstrap version rule, no asset: deployable by a StackSet in any account and region.
    expect(forwarder.Rules).toBeUndefined();
    const text = JSON.stringify(forwarder);
    expect(text).not.toContain(ACCOUNT);
    expect(text).not.toMatch(/cdk-hnb659fds|BootstrapVersion|us-east-1/);
    expect(ofType(forwarder, 'AWS::Lambda::Function')).toEqual([]);
  });

  it('forwards exactly the four signals the main stack acts on, to the bus parameter, with its own role and DLQ', () => {
    const rules = ofType(forwarder, 'AWS::Events::Rule');
    const mainPatterns = ofType(main, 'AWS::Events::Rule').map(([, r]) => r.Properties.EventPattern);
    expect(rules.map(([, r]) => r.Properties.EventPattern)).toEqual(mainPatterns);
    expect(rules).toHaveLength(Object.keys(EC2_EVENT_PATTERNS).length);
    const [roleId, role] = only(forwarder, 'AWS::IAM::Role');
    const [queueId] = only(forwarder, 'AWS::SQS::Queue');
    for (const [id, rule] of rules) {
      expect(rule.Properties.EventBusName, id).toBeUndefined(); // the region's default bus
      expect(rule.Properties.Targets, id).toEqual([
        {
          Id: 'Target0',
          Arn: { Ref: 'TargetEventBusArn' },
          RoleArn: { 'Fn::GetAtt': [roleId, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        },
      ]);
    }
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    const statements = ofType(forwarder, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'TargetEventBusArn' } }]);
  });

  it('lets only its rules write to the encrypted DLQ, and alarms (optionally notifying) when it is not empty', () => {
    const [queueId, queue] = only(forwarder, 'AWS::SQS::Queue');
    expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    const statements = ofType(forwarder, 'AWS::SQS::QueuePolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement);
    const sends = statements.filter((s: Json) => s.Action === 'sqs:SendMessage');
    expect(sends).toHaveLength(4);
    for (const s of sends) expect(s.Principal).toEqual({ Service: 'events.amazonaws.com' });
    const [, alarm] = only(forwarder, 'AWS::CloudWatch::Alarm');
    expect(alarm.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: { 'Fn::If': ['HasAlarmTopic', [{ Ref: 'AlarmTopicArn' }], { Ref: 'AWS::NoValue' }] },
    });
  });
});

describe('main stack: cross-account event intake', () => {
  it('admits an organization for the forwarded signals only, beside the listed accounts', () => {
    const [, org] = only(main, 'AWS::Events::EventBusPolicy');
    expect(org.Properties.Statement).toMatchObject({
      Principal: '*',
      Action: 'events:PutEvents',
      Condition: {
        StringEquals: {
          'aws:PrincipalOrgID': ORG,
          'events:source': ['aws.ec2', 'aws.health'],
          'events:detail-type': Object.values(EC2_EVENT_PATTERNS).map((p) => p.detailType[0]),
        },
      },
    });
  });
});

describe('alarms', () => {
  const alarms = (): Json[] => ofType(main, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
  const named = (suffix: string): Json => {
    const found = alarms().filter((a) => a.AlarmName === `Ops-${suffix}`);
    expect(found, suffix).toHaveLength(1);
    return found[0];
  };
  const topicRef = () => ({ Ref: ofType(main, 'AWS::SNS::Topic')[0]![0] });

  it('all notify the one encrypted SNS topic (alarm and recovery), which mails the configured address', () => {
    const [topicId, topic] = only(main, 'AWS::SNS::Topic');
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    const [, key] = only(main, 'AWS::KMS::Key');
    expect(key.Properties.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(key.Properties.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    const [, subscription] = only(main, 'AWS::SNS::Subscription');
    expect(subscription.Properties).toMatchObject({ Protocol: 'email', Endpoint: EMAIL, TopicArn: { Ref: topicId } });
    for (const a of alarms()) {
      expect(a.AlarmActions, a.AlarmName).toEqual([topicRef()]);
      expect(a.OKActions, a.AlarmName).toEqual([topicRef()]);
      expect(a.AlarmDescription, a.AlarmName).toMatch(/Runbook: lib\/OPERATIONS\.md#alarm-/);
    }
  });

  it('DLQ depth > 0', () => {
    const [queueId] = only(main, 'AWS::SQS::Queue');
    expect(named('Ec2EventsDlq')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Statistic: 'Maximum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('HTTP 5xx rate: 5xx / requests over 5 minutes, above 1 % in 2 of 3 periods', () => {
    const a = named('Http5xxRate');
    expect(a).toMatchObject({ Threshold: 1, EvaluationPeriods: 3, DatapointsToAlarm: 2, ComparisonOperator: 'GreaterThanThreshold' });
    const byId = Object.fromEntries(a.Metrics.map((m: Json) => [m.Id, m]));
    expect(byId.expr_1?.Expression ?? a.Metrics.find((m: Json) => m.Expression).Expression).toContain('100 * FILL(errors, 0) / requests');
    expect(byId.errors.MetricStat.Metric).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5xx' });
    expect(byId.requests.MetricStat.Metric).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: 'Count' });
  });

  it('Lambda errors and throttles for every function', () => {
    const functions = ofType(main, 'AWS::Lambda::Function');
    expect(functions).toHaveLength(GROUPS.length + 2 + JOBS.length);
    for (const [id] of functions) {
      for (const metric of ['Errors', 'Throttles']) {
        const matching = alarms().filter(
          (a) => a.MetricName === metric && a.Namespace === 'AWS/Lambda' && a.Dimensions?.[0]?.Value?.Ref === id,
        );
        expect(matching, `${metric} of ${id}`).toHaveLength(1);
        expect(matching[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold', Statistic: 'Sum' });
      }
    }
  });

  it('DynamoDB throttled requests, summed over the operations the code uses', () => {
    const a = named('DynamoDbThrottles');
    const metrics = a.Metrics.filter((m: Json) => m.MetricStat);
    expect(metrics.length).toBeGreaterThanOrEqual(8);
    for (const m of metrics) expect(m.MetricStat.Metric.MetricName).toBe('ThrottledRequests');
    expect(metrics.map((m: Json) => m.MetricStat.Metric.Dimensions.find((d: Json) => d.Name === 'Operation').Value)).toEqual(
      expect.arrayContaining(['GetItem', 'Query', 'UpdateItem', 'TransactWriteItems', 'BatchWriteItem']),
    );
  });

  it('every job: its EMF JobSucceeded absent for twice its period (missing data breaches)', () => {
    for (const job of JOBS) {
      const matching = alarms().filter(
        (a) => a.MetricName === 'JobSucceeded' && a.Dimensions?.[0]?.Value === job.name,
      );
      expect(matching, job.name).toHaveLength(1);
      const a = matching[0];
      const period = schedulePeriodSeconds(job.schedule);
      expect(a.Period * a.EvaluationPeriods, job.name).toBe(Math.max(2 * period, 300));
      expect(a).toMatchObject({
        Namespace: 'SpotOptimizer',
        Dimensions: [{ Name: 'service', Value: job.name }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        DatapointsToAlarm: a.EvaluationPeriods,
      });
    }
  });

  it('job windows respect CloudWatch limits (≤ 1 day under hourly periods, ≤ 7 days otherwise)', () => {
    expect(schedulePeriodSeconds('rate(1 minute)')).toBe(60);
    expect(schedulePeriodSeconds('rate(12 hours)')).toBe(43_200);
    expect(schedulePeriodSeconds('cron(10 0 * * ? *)')).toBe(86_400);
    expect(() => schedulePeriodSeconds('cron(0 9 ? * MON *)')).toThrow(/cannot derive/);
    expect(jobAlarmWindow(60)).toEqual({ period: 300, evaluationPeriods: 1 });
    expect(jobAlarmWindow(900)).toEqual({ period: 1800, evaluationPeriods: 1 });
    expect(jobAlarmWindow(43_200)).toEqual({ period: 86_400, evaluationPeriods: 1 });
    expect(jobAlarmWindow(86_400)).toEqual({ period: 86_400, evaluationPeriods: 2 });
  });

  it('EventBridge failed invocations per rule, and dropped scheduler invocations', () => {
    const ruleNames = ofType(main, 'AWS::Events::Rule').map(([id]) => id);
    for (const ruleId of ruleNames) {
      expect(alarms().filter((a) => a.MetricName === 'FailedInvocations' && a.Dimensions[0].Value.Ref === ruleId), ruleId).toHaveLength(1);
    }
    expect(named('SchedulerDroppedInvocations')).toMatchObject({ Namespace: 'AWS/Scheduler', MetricName: 'InvocationDroppedCount' });
  });
});

describe('dashboard', () => {
  let body: string;
  beforeAll(() => {
    const [, dashboard] = only(main, 'AWS::CloudWatch::Dashboard');
    body = JSON.stringify(dashboard.Properties.DashboardBody);
  });

  it('shows the operator figures the issue asks for', () => {
    for (const title of [
      'Agents online',
      'Heartbeats per minute',
      'Interruptions handled',
      'Event → command latency (ms)',
      'Promotions and switches',
      'Savings accrued (USD per hour)',
      'API latency (ms)',
      'Errors per group (5xx answered)',
    ]) expect(body, title).toContain(`\\"title\\":\\"${title}\\"`);
    expect(body).toContain('\\"p50\\"');
    expect(body).toContain('\\"p99\\"');
  });

  it('every SpotOptimizer metric it plots is emitted by the functions (addMetric in functions/)', () => {
    const names = new Set([
      ...[...body.matchAll(/\\"SpotOptimizer\\",\\"(\w+)\\"/g)].map((m) => m[1]),
      ...[...body.matchAll(/MetricName=\\\\\\"(\w+)\\\\\\"/g)].map((m) => m[1]),
    ]);
    expect([...names].sort()).toEqual(expect.arrayContaining(['AgentsOnline', 'Heartbeat', 'IncidentHandled', 'InterruptionCommandLatency', 'SavingsAccruedUsd']));
    const sources = readAllSources('functions');
    for (const name of names) expect(sources, name).toMatch(new RegExp(`addMetric\\(\\s*(?:'${name}'|[^)]*'${name}')`));
  });
});

describe('upgrade safety', () => {
  // Renaming a construct on one of these paths would make CloudFormation create a new resource and
  // drop (table: orphan) the old one: all state, every admin token holder, queued failed events.
  it('the table, the admin token secret and the DLQ keep their logical ids', () => {
    const types = Object.fromEntries(Object.entries(main.Resources as Record<string, Json>).map(([id, r]) => [id, r.Type]));
    expect(types).toMatchObject({
      DataTableFDBAD0F2: 'AWS::DynamoDB::Table',
      AdminToken38B307E8: 'AWS::SecretsManager::Secret',
      Ec2EventsDeadLetterQueue602E6359: 'AWS::SQS::Queue',
    });
    expect(main.Resources.DataTableFDBAD0F2.DeletionPolicy).toBe('Retain');
  });

  it('passes the log level to every function', () => {
    for (const [id, fn] of ofType(main, 'AWS::Lambda::Function')) {
      expect(fn.Properties.Environment.Variables.POWERTOOLS_LOG_LEVEL, id).toBe('DEBUG');
    }
  });
});

function readAllSources(dir: string): string {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');
}

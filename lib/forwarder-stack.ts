import {
  CfnCondition,
  CfnOutput,
  CfnParameter,
  CliCredentialsStackSynthesizer,
  Duration,
  Fn,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import { Alarm, type CfnAlarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { deadLetterQueue, EC2_EVENT_PATTERNS } from './constructs/interruption-rules.js';

/** The control plane bus this template forwards to: `arn:<partition>:events:<region>:<account>:event-bus/<name>`. */
export const TARGET_BUS_PARAMETER = 'TargetEventBusArn';
/** Optional SNS topic (same region as the forwarder) for the forwarder's own alarm. */
export const ALARM_TOPIC_PARAMETER = 'AlarmTopicArn';
export const BUS_ARN_PATTERN = '^arn:aws[a-z-]*:events:[a-z0-9-]+:\\d{12}:event-bus/[A-Za-z0-9._\\-/]+$';

/**
 * The forwarder: deployed in every region (and account) where the fleet runs, except the control
 * plane's own region of its own account (the main stack's rules already listen there). EC2 and AWS
 * Health publish to the default bus of the instance's own region and account; these rules send the
 * four signals the control plane acts on (the same patterns as the main stack) to its bus, unchanged
 * — `region`, `account` and `id` keep their original values, so the consumer attributes and dedupes
 * them like local events.
 *
 * Environment-agnostic and bootstrap-free (no assets, CLI credentials): the synthesized template is
 * the same file for `cdk deploy` in each region/account and for a CloudFormation StackSet. Delivery:
 * EventBridge's fixed retry policy for event-bus targets (24 h, up to 185 attempts, exponential
 * backoff — a bus target takes no RetryPolicy), then the forwarder's own SQS dead-letter queue,
 * watched by an alarm.
 */
export class ForwarderStack extends Stack {
  readonly deadLetterQueue: Queue;
  readonly role: Role;
  readonly rules: Rule[] = [];

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, {
      description: 'Spot Optimizer signal forwarder: EC2/Health events of this region and account → the control plane bus',
      synthesizer: new CliCredentialsStackSynthesizer(),
      ...props,
    });

    const targetArn = new CfnParameter(this, TARGET_BUS_PARAMETER, {
      type: 'String',
      description: 'ARN of the control plane event bus (the main stack output EventBusArn)',
      allowedPattern: BUS_ARN_PATTERN,
      constraintDescription: 'must be an EventBridge event bus ARN',
    }).valueAsString;
    const alarmTopic = new CfnParameter(this, ALARM_TOPIC_PARAMETER, {
      type: 'String',
      default: '',
      description: 'Optional SNS topic ARN in this region notified when forwarding fails (empty: alarm without action)',
    });
    const hasAlarmTopic = new CfnCondition(this, 'HasAlarmTopic', {
      expression: Fn.conditionNot(Fn.conditionEquals(alarmTopic.valueAsString, '')),
    });

    this.deadLetterQueue = deadLetterQueue(this, 'the forwarding rules');

    // The forwarder's own role: EventBridge needs one to put events on a bus of another account or region.
    this.role = new Role(this, 'ForwarderRole', {
      description: 'Lets this region\'s EC2/Health forwarding rules put events on the control plane bus',
      assumedBy: new ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    });
    this.role.addToPrincipalPolicy(new PolicyStatement({ actions: ['events:PutEvents'], resources: [targetArn] }));

    const target = new EventBusTarget(EventBus.fromEventBusArn(this, 'ControlPlaneBus', targetArn), {
      role: this.role,
      deadLetterQueue: this.deadLetterQueue,
    });
    for (const [ruleId, pattern] of Object.entries(EC2_EVENT_PATTERNS)) {
      this.rules.push(
        new Rule(this, ruleId, {
          description: `${pattern.detailType[0]} → control plane bus`,
          eventPattern: structuredClone(pattern) as EventPattern,
          targets: [target],
        }),
      );
    }

    const alarm = new Alarm(this, 'ForwardingFailedAlarm', {
      alarmDescription:
        'Events this region could not forward to the control plane are in the forwarder DLQ. Runbook: lib/OPERATIONS.md#alarm-forwarder-dlq',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    (alarm.node.defaultChild as CfnAlarm).alarmActions = Fn.conditionIf(
      hasAlarmTopic.logicalId,
      [alarmTopic.valueAsString],
      Fn.ref('AWS::NoValue'),
    ) as unknown as string[];
    Validations.of(alarm).acknowledge({
      id: 'CloudFormation-Validate::W1030',
      reason: 'The empty default is never used as an action: without a topic AlarmActions is AWS::NoValue (Fn::If on HasAlarmTopic).',
    });

    new CfnOutput(this, 'DeadLetterQueueUrl', {
      value: this.deadLetterQueue.queueUrl,
      description: 'Events this forwarder could not deliver (npm run dlq -- list --queue-url …)',
    });
  }
}

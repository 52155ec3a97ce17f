import { Duration, Names, Stack, Validations } from 'aws-cdk-lib';
import { CfnEventBusPolicy, EventBus, Rule } from 'aws-cdk-lib/aws-events';
import type { EventPattern } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { OTHER_FUNCTION_TABLE_ACCESS } from '../../functions/shared/db/table-access.js';
import { AppFunction } from './app-function.js';

/** Delivery policy for every EC2 signal (API.md §5: 2 retries, then the DLQ). */
export const EVENT_RETRY_ATTEMPTS = 2;
export const EVENT_MAX_AGE = Duration.hours(1);

/**
 * The rule patterns (EC2-SIGNALS.md §6, node-termination-handler's set), one rule per signal so
 * each has its own invocation and failure metrics.
 */
export const EC2_EVENT_PATTERNS = {
  SpotInterruptionRule: { source: ['aws.ec2'], detailType: ['EC2 Spot Instance Interruption Warning'] },
  RebalanceRecommendationRule: { source: ['aws.ec2'], detailType: ['EC2 Instance Rebalance Recommendation'] },
  // API.md §5 acts on these four states only; pending/stopping would be invocations that do nothing.
  StateChangeRule: {
    source: ['aws.ec2'],
    detailType: ['EC2 Instance State-change Notification'],
    detail: { state: ['running', 'stopped', 'shutting-down', 'terminated'] },
  },
  HealthScheduledChangeRule: {
    source: ['aws.health'],
    detailType: ['AWS Health Event'],
    detail: { service: ['EC2'], eventTypeCategory: ['scheduledChange'] },
  },
} as const satisfies Record<string, EventPattern>;

export interface InterruptionRulesProps {
  readonly table: ITable;
  readonly logRetention: RetentionDays;
  /** Other accounts allowed to forward their EC2/Health events (ForwarderStack) to this account's default bus. */
  readonly allowedEventAccounts?: readonly string[];
  /** An AWS Organizations id: every account of it may forward (StackSets over an organization). */
  readonly eventOrganizationId?: string;
  /** Reserved concurrency of the consumer (0: none). */
  readonly reservedConcurrency: number;
}

/** What a forwarder may put on the bus: the sources and detail types of EC2_EVENT_PATTERNS, nothing else. */
export const FORWARDED_EVENTS_CONDITION = {
  StringEquals: {
    'events:source': [...new Set(Object.values(EC2_EVENT_PATTERNS).flatMap((p) => p.source))],
    'events:detail-type': Object.values(EC2_EVENT_PATTERNS).flatMap((p) => p.detailType),
  },
};

/**
 * A dead-letter queue for EventBridge targets (here and in the ForwarderStack): SQS-managed SSE —
 * EventBridge cannot use the AWS-managed aws/sqs KMS key (EC2-SIGNALS.md §6) — TLS only, 14 days.
 */
export function deadLetterQueue(scope: Construct, of: string): Queue {
  const queue = new Queue(scope, 'DeadLetterQueue', {
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter queue of ${of}.`,
  });
  return queue;
}

/**
 * EC2 spot signals on the default event bus → the `ec2-events` Lambda, with retries and one SQS
 * dead-letter queue for both failure paths. The two paths leave different messages in it: an event
 * EventBridge could not deliver arrives as the raw event (with `ERROR_CODE`/`RULE_ARN` attributes);
 * an event the function kept failing on arrives as a Lambda destination record
 * (`requestPayload` = the event, `responseContext`, `responsePayload`).
 */
export class InterruptionRules extends Construct {
  readonly consumer: AppFunction;
  readonly deadLetterQueue: Queue;
  /** The bus the rules listen on (the region's default bus): the forwarders' TargetEventBusArn. */
  readonly busArn: string;
  readonly rules: Record<string, Rule> = {};

  constructor(scope: Construct, id: string, props: InterruptionRulesProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.deadLetterQueue = deadLetterQueue(this, 'the EC2 event rules and their consumer');

    this.consumer = new AppFunction(this, 'ConsumerFunction', {
      entry: 'functions/ec2-events/handler.ts',
      serviceName: 'ec2-events',
      description: 'EC2 spot interruption, rebalance, state-change and Health scheduled-change events',
      // Not HTTP, but a spot notice gives 2 minutes: a handler that needs longer is already too late.
      timeout: Duration.seconds(25),
      logRetention: props.logRetention,
      // A spot notice gives 2 minutes: this function's concurrency is reserved, nothing else can take it.
      reservedConcurrency: props.reservedConcurrency,
      environment: {
        EVENTS_DLQ_URL: this.deadLetterQueue.queueUrl,
        STACK_ACCOUNT: stack.account,
      },
    });
    this.consumer.bindTable(props.table, OTHER_FUNCTION_TABLE_ACCESS['ec2-events']);
    // EventBridge invokes asynchronously: its retry policy covers delivery, this one covers handler errors.
    this.consumer.configureAsyncInvoke({
      retryAttempts: EVENT_RETRY_ATTEMPTS,
      maxEventAge: EVENT_MAX_AGE,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });

    const target = new LambdaFunction(this.consumer, {
      retryAttempts: EVENT_RETRY_ATTEMPTS,
      maxEventAge: EVENT_MAX_AGE,
      deadLetterQueue: this.deadLetterQueue,
    });
    for (const [ruleId, eventPattern] of Object.entries(EC2_EVENT_PATTERNS)) {
      this.rules[ruleId] = new Rule(this, ruleId, {
        description: `${eventPattern.detailType[0]} → ec2-events`,
        // A mutable copy: the constant is deeply readonly, the construct's type is not.
        eventPattern: structuredClone(eventPattern) as EventPattern,
        targets: [target],
      });
    }

    // Forwarded events keep their original `account` and `region`; the patterns above name neither,
    // so they match them like local ones. Other accounts need the bus's permission to put them.
    const bus = EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.busArn = bus.eventBusArn;
    const accounts = [...new Set(props.allowedEventAccounts ?? [])].filter(
      (account) => account !== stack.account,
    );
    // The default bus is shared by everything in the account: statement ids carry this stack's path.
    const statementPrefix = Names.uniqueResourceName(this, { maxLength: 51 });
    for (const account of accounts) {
      if (!/^\d{12}$/.test(account)) {
        throw new Error(`allowedEventAccounts: "${account}" is not an account id`);
      }
      new CfnEventBusPolicy(this, `ForwardFrom${account}`, {
        statementId: `${statementPrefix}-${account}`,
        eventBusName: bus.eventBusName,
        statement: {
          Effect: 'Allow',
          Principal: { AWS: `arn:${stack.partition}:iam::${account}:root` },
          Action: 'events:PutEvents',
          Resource: bus.eventBusArn,
          // Only the forwarded signals: the consumer acts on nothing else from another account.
          Condition: FORWARDED_EVENTS_CONDITION,
        },
      });
    }
    if (props.eventOrganizationId) {
      new CfnEventBusPolicy(this, 'ForwardFromOrganization', {
        statementId: `${statementPrefix}-org`,
        eventBusName: bus.eventBusName,
        statement: {
          Effect: 'Allow',
          Principal: '*',
          Action: 'events:PutEvents',
          Resource: bus.eventBusArn,
          Condition: {
            StringEquals: { ...FORWARDED_EVENTS_CONDITION.StringEquals, 'aws:PrincipalOrgID': props.eventOrganizationId },
          },
        },
      });
    }
  }

  /**
   * Lets `fn` read the DLQ's depth (system-health) and sets `EVENTS_DLQ_URL`, in one step.
   */
  bindDlqDepthReader(fn: AppFunction): void {
    this.deadLetterQueue.grant(fn, 'sqs:GetQueueAttributes');
    fn.addEnvironment('EVENTS_DLQ_URL', this.deadLetterQueue.queueUrl);
  }
}

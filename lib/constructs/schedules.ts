import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type { CfnElement } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { JOBS } from '../../functions/jobs/job-table.js';
import { AppFunction } from './app-function.js';

/** Jobs are not behind the agent's 30 s wait (API.md §1.1 applies to HTTP only). */
export const JOB_TIMEOUT = Duration.minutes(5);

export interface SchedulesProps {
  readonly table: ITable;
  readonly logRetention: RetentionDays;
}

const pascal = (name: string): string =>
  name.replace(/(^|-)([a-z])/g, (_match, _dash: string, letter: string) => letter.toUpperCase());

/**
 * One Lambda and one EventBridge Scheduler schedule per entry of the job table (API.md §6). No
 * reserved concurrency: jobs take a lease in the table, so overlapping runs are already harmless.
 */
export class Schedules extends Construct {
  readonly jobFunctions: Record<string, AppFunction> = {};

  constructor(scope: Construct, id: string, props: SchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    for (const job of JOBS) {
      const name = pascal(job.name);
      const fn = new AppFunction(this, `${name}Function`, {
        entry: `functions/jobs/${job.dir}/handler.ts`,
        serviceName: job.name,
        description: job.description.slice(0, 256),
        timeout: JOB_TIMEOUT,
        logRetention: props.logRetention,
        ...(job.lazyBundles?.length ? { lazyModules: job.lazyBundles } : {}),
      });
      fn.bindTable(props.table, job.table);
      if (job.awsActions?.length) {
        fn.addToRolePolicy(new PolicyStatement({ actions: job.awsActions, resources: ['*'] }));
        if (fn.role) {
          Validations.of(fn.role).acknowledge(
            ...job.awsActions.map((action) => ({
              id: `AwsSolutions-IAM5[Action::${action}]`,
              reason: `${action} is a read-only API without resource-level permissions, so it can only be granted on *.`,
            })),
          );
        }
      }

      // One invoke role per job (instead of the target's stack-level default), so each role can
      // start exactly one function and the acknowledgement below sits on that role alone.
      const role = new Role(this, `${name}SchedulerRole`, {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      });
      const fnId = stack.getLogicalId(fn.node.defaultChild as CfnElement);
      Validations.of(role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${fnId}.Arn>:*]`,
        reason:
          "grantInvoke also allows this one job function's own versions and aliases (:*), nothing else.",
      });

      new Schedule(this, `${name}Schedule`, {
        description: `${job.name}: ${job.schedule}`,
        schedule: ScheduleExpression.expression(job.schedule),
        // Jobs are idempotent and leased, so a late delivery is harmless; a lost daily run is not.
        target: new LambdaInvoke(fn, { role, retryAttempts: 2, maxEventAge: Duration.hours(1) }),
      });
      this.jobFunctions[job.name] = fn;
    }
  }
}

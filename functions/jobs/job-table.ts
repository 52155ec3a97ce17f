/**
 * Scheduled jobs (API.md §6), declared once: the CDK schedules and the local runtime's timers both
 * read this table. `rate` is in minutes for local timers; `schedule` is the EventBridge expression.
 */
export interface JobDef {
  name: string;
  /** Folder under functions/jobs/ holding handler.ts. */
  dir: string;
  schedule: string;
  /** Local runtime period in seconds (daily jobs run hourly locally so they can be observed). */
  localEverySeconds: number;
  description: string;
  /** AWS API actions the job calls besides the table (granted on `*`: they have no resource-level permissions). */
  awsActions?: string[];
  /**
   * Modules of the job (relative to its folder, `.ts`) bundled on their own beside index.mjs as
   * `<name>.mjs` and imported only when used: a large dependency that no scheduled run needs stays
   * out of the cold start (the job imports `./<name>.mjs` when bundled, `./<name>.js` from source).
   */
  lazyBundles?: string[];
}

export const JOBS: JobDef[] = [
  {
    name: 'pricing-consolidation',
    dir: 'pricing-consolidation',
    schedule: 'rate(12 hours)',
    localEverySeconds: 12 * 3600,
    description: 'staging prices → consolidated 5-minute series → canonical hourly series',
    // The on-demand backfill reads EC2 DescribeSpotPriceHistory, with the EC2 SDK bundled apart.
    awsActions: ['ec2:DescribeSpotPriceHistory'],
    lazyBundles: ['ec2.ts'],
  },
  {
    name: 'agent-heartbeat-timeout',
    dir: 'agent-heartbeat-timeout',
    schedule: 'rate(1 minute)',
    localEverySeconds: 60,
    description: 'agents with no heartbeat for more than 120 s → offline, with a notification',
  },
  {
    name: 'command-expiry',
    dir: 'command-expiry',
    schedule: 'rate(5 minutes)',
    localEverySeconds: 300,
    description: 'applies the command expiry rules of API.md §4.1',
  },
  {
    name: 'replica-reconciler',
    dir: 'replica-reconciler',
    schedule: 'rate(1 minute)',
    localEverySeconds: 60,
    description: 'keeps manual replicas, recreates stuck placeholders, confirms stale terminations, runs pending promotions',
  },
  {
    name: 'pool-risk-analysis',
    dir: 'pool-risk-analysis',
    schedule: 'rate(15 minutes)',
    localEverySeconds: 900,
    description: 'recomputes pool risk, runs the engine for auto-switch agents, evaluates pricing alerts',
  },
  {
    name: 'daily-savings-snapshot',
    dir: 'daily-savings-snapshot',
    schedule: 'cron(10 0 * * ? *)',
    localEverySeconds: 3600,
    description: 'per-client savings snapshot for yesterday',
  },
  {
    name: 'zombie-cleanup',
    dir: 'zombie-cleanup',
    schedule: 'cron(0 3 * * ? *)',
    localEverySeconds: 3600,
    description: 'ZOMBIEs past retention → TERMINATED (unconfirmed) with a warning',
  },
];

/**
 * Scheduled jobs (API.md §6), declared once: the CDK schedules and the local runtime's timers both
 * read this table. `rate` is in minutes for local timers; `schedule` is the EventBridge expression.
 */
import type { TableAccess } from '../shared/db/table-access.js';

/** The AWS market source (EC2 + Price List SDKs), loaded by shared/market/market-prices.ts on first use. */
const AWS_MARKET_SOURCE_MODULE = 'shared/market/aws-market-source.ts';

export interface JobDef {
  name: string;
  /** Folder under functions/jobs/ holding handler.ts. */
  dir: string;
  schedule: string;
  /** Local runtime period in seconds (daily jobs run hourly locally so they can be observed). */
  localEverySeconds: number;
  description: string;
  /** Its table access (shared/db/table-access.ts): the job's role gets exactly these DynamoDB actions. */
  table: TableAccess;
  /** AWS API actions the job calls besides the table (granted on `*`: they have no resource-level permissions). */
  awsActions?: string[];
  /**
   * Modules (paths under functions/, `.ts`) bundled on their own beside index.mjs as `<basename>.mjs`
   * and imported only when used: a large dependency stays out of the function's cold start (the
   * importer loads `./<basename>.mjs` when bundled, `./<basename>.js` from source).
   */
  lazyBundles?: string[];
}

export const JOBS: JobDef[] = [
  {
    name: 'pricing-consolidation',
    dir: 'pricing-consolidation',
    schedule: 'rate(12 hours)',
    localEverySeconds: 12 * 3600,
    table: 'readWrite',
    description: 'staging prices → consolidated 5-minute series → canonical hourly series',
    // The on-demand backfill reads EC2 DescribeSpotPriceHistory through the market source, bundled apart.
    awsActions: ['ec2:DescribeSpotPriceHistory'],
    lazyBundles: [AWS_MARKET_SOURCE_MODULE],
  },
  {
    name: 'market-prices',
    dir: 'market-prices',
    // API.md §4.6 wants candidates priced within 2 h: every 30 min leaves room for failed runs.
    schedule: 'rate(30 minutes)',
    localEverySeconds: 300,
    table: 'readWrite',
    description: 'spot prices (EC2 DescribeSpotPriceHistory) and on-demand list prices → POOL items and staging',
    awsActions: ['ec2:DescribeSpotPriceHistory', 'pricing:GetProducts'],
    // Its first run after a cold start loads the SDKs; an init that skips them keeps timers honest.
    lazyBundles: [AWS_MARKET_SOURCE_MODULE],
  },
  {
    name: 'agent-heartbeat-timeout',
    dir: 'agent-heartbeat-timeout',
    schedule: 'rate(1 minute)',
    localEverySeconds: 60,
    table: 'readWrite',
    description: 'agents with no heartbeat for more than 120 s → offline, with a notification',
  },
  {
    name: 'command-expiry',
    dir: 'command-expiry',
    schedule: 'rate(5 minutes)',
    localEverySeconds: 300,
    table: 'readWrite',
    description: 'applies the command expiry rules of API.md §4.1',
  },
  {
    name: 'replica-reconciler',
    dir: 'replica-reconciler',
    schedule: 'rate(1 minute)',
    localEverySeconds: 60,
    table: 'readWrite',
    description: 'keeps manual replicas, recreates stuck placeholders, confirms stale terminations, runs pending promotions',
  },
  {
    name: 'pool-risk-analysis',
    dir: 'pool-risk-analysis',
    schedule: 'rate(15 minutes)',
    localEverySeconds: 900,
    table: 'readWrite',
    description: 'recomputes pool risk, runs the engine for auto-switch agents, evaluates pricing alerts',
  },
  {
    name: 'daily-savings-snapshot',
    dir: 'daily-savings-snapshot',
    schedule: 'cron(10 0 * * ? *)',
    localEverySeconds: 3600,
    table: 'readWrite',
    description: 'per-client savings snapshot for yesterday',
  },
  {
    name: 'zombie-cleanup',
    dir: 'zombie-cleanup',
    schedule: 'cron(0 3 * * ? *)',
    localEverySeconds: 3600,
    table: 'readWrite',
    description: 'ZOMBIEs past retention → TERMINATED (unconfirmed) with a warning',
  },
];

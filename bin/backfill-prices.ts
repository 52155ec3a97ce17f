/**
 * Spot price backfill from EC2 DescribeSpotPriceHistory into the pricing pipeline (staging →
 * consolidated → canonical), run from a workstation against a deployed table:
 *
 *   TABLE_NAME=<table> npm run backfill -- [--days 7 | --start ISO --end ISO] [--pools id,id]
 *
 * Uses the caller's AWS credentials (ec2:DescribeSpotPriceHistory in every region the fleet runs
 * in, DynamoDB read/write on the table). Default pools: every pool the fleet has reported (POOL
 * items) and every live agent's current pool, in whatever region. Progress is logged as JSON lines
 * (Powertools logger); the summary is printed on stdout. In AWS, the same backfill runs by invoking
 * the pricing-consolidation Lambda with `{"backfill": {"days": 7}}`.
 */
import { numberFlag, parseFlags, runCli, UsageError } from './support/cli.js';

const USAGE = `Usage: TABLE_NAME=<table> npm run backfill -- [options]

  --days N          days back from --end (1-90, default 7)
  --start ISO       window start (instead of --days)
  --end ISO         window end (default: now)
  --pools ID,ID     only these pools (<instance type>.<az>); default: the fleet's pools in every region
  -h, --help        this text`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: {
      days: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      pools: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const now = new Date();
  const end = values.end ? new Date(values.end) : now;
  const days = numberFlag(values.days, '--days', { integer: true, min: 1, max: 90 }) ?? 7;
  const start = values.start ? new Date(values.start) : new Date(end.getTime() - days * 86_400_000);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) throw new UsageError('bad --start/--end (ISO-8601 expected)');
  if (!process.env.TABLE_NAME) throw new UsageError('TABLE_NAME is not set');
  process.env.POWERTOOLS_SERVICE_NAME ??= 'backfill-prices';
  const { backfillSpotPrices } = await import('../functions/jobs/pricing-consolidation/backfill.js');
  const summary = await backfillSpotPrices(now, {
    start,
    end,
    ...(values.pools ? { poolIds: values.pools.split(',').map((p) => p.trim()).filter(Boolean) } : {}),
  });
  console.log(JSON.stringify(summary, null, 2));
  return 0;
}

runCli('backfill-prices', USAGE, main);

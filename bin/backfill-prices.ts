/**
 * Spot price backfill from EC2 DescribeSpotPriceHistory into the pricing pipeline (staging →
 * consolidated → canonical), run from a workstation against a deployed table:
 *
 *   TABLE_NAME=<table> AWS_REGION=<region> npx tsx bin/backfill-prices.ts [--days 7 | --start ISO --end ISO] [--pools id,id]
 *
 * Uses the caller's AWS credentials (ec2:DescribeSpotPriceHistory, DynamoDB read/write on the
 * table). Default pools: every pool the fleet has reported (POOL items). Progress is logged as
 * JSON lines (Powertools logger); the summary is printed on stdout. In AWS, the same backfill runs
 * by invoking the pricing-consolidation Lambda with `{"backfill": {"days": 7}}`.
 */
import { parseArgs } from 'node:util';

const USAGE = 'usage: npx tsx bin/backfill-prices.ts [--days N (1-90, default 7) | --start ISO --end ISO] [--pools id,id,...]';

async function main(): Promise<void> {
  const { values } = parseArgs({
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
    return;
  }
  if (!process.env.TABLE_NAME) throw new Error(`TABLE_NAME is not set\n${USAGE}`);
  process.env.POWERTOOLS_SERVICE_NAME ??= 'backfill-prices';
  const { backfillSpotPrices } = await import('../functions/jobs/pricing-consolidation/backfill.js');
  const now = new Date();
  const end = values.end ? new Date(values.end) : now;
  const days = values.days ? Number(values.days) : 7;
  if (!(days >= 1 && days <= 90)) throw new Error(`--days must be 1-90\n${USAGE}`);
  const start = values.start ? new Date(values.start) : new Date(end.getTime() - days * 86_400_000);
  if (Number.isNaN(start.getTime()) || Number.isNaN(end.getTime())) throw new Error(`bad --start/--end\n${USAGE}`);
  const summary = await backfillSpotPrices(now, {
    start,
    end,
    ...(values.pools ? { poolIds: values.pools.split(',').map((p) => p.trim()).filter(Boolean) } : {}),
  });
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});

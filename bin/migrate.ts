/**
 * The data migration of the write-sharded agent indexes (README "Capacity and cost"), run once
 * from a workstation against a deployed table after deploying this release onto an existing one:
 *
 *   TABLE_NAME=<table> npm run migrate -- [--dry-run]
 *
 * Uses the caller's AWS credentials (DynamoDB Query, GetItem, UpdateItem and PutItem on the
 * table). Idempotent and safe while the control plane serves agents; `npm start` runs it on a
 * persisted local database by itself. Prints a progress line per 100 agents and the summary.
 */
import { parseFlags, runCli, UsageError } from './support/cli.js';

const USAGE = `Usage: TABLE_NAME=<table> npm run migrate -- [options]

  --dry-run         count the agents still to move, change nothing
  -h, --help        this text`;

async function main(argv: string[]): Promise<number> {
  const { values } = parseFlags({
    args: argv,
    options: { 'dry-run': { type: 'boolean' }, 'help': { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!process.env.TABLE_NAME) throw new UsageError('TABLE_NAME is not set');
  const { migrateAgentsToShardedIndexes } = await import('../functions/shared/db/migrations.js');
  const summary = await migrateAgentsToShardedIndexes({
    dryRun: values['dry-run'] === true,
    progress: (m) => process.stderr.write(`migrate: ${m.found} agents found, ${m.rekeyed} re-keyed, ${m.liveCreated} live items created\n`),
  });
  console.log(JSON.stringify({ dry_run: values['dry-run'] === true, ...summary }, null, 2));
  return 0;
}

runCli('migrate', USAGE, main);

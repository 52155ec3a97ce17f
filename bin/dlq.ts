/**
 * `npm run dlq -- list|redrive`: the EC2 events dead-letter queue from a workstation (lib/OPERATIONS.md, dead-letter queue).
 *
 *   npm run deploy -- --outputs-file cdk-outputs.json     # once: the stack outputs this reads
 *   npm run dlq -- list                                   # what failed, and why
 *   npm run dlq -- redrive                                # re-deliver each event once, delete on success
 *
 * Uses the caller's AWS credentials: sqs:ReceiveMessage/DeleteMessage/ChangeMessageVisibility on
 * the queue, lambda:InvokeFunction on the EC2 events function.
 */
import { existsSync, readFileSync } from 'node:fs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { numberFlag, parseFlags, runCli, UsageError } from './support/cli.js';
import { listDlq, redriveDlq, regionOfArn, regionOfQueueUrl, summarize } from './support/dlq.js';

const USAGE = `Usage: npm run dlq -- <list|redrive> [options]

  list                    show the failed EC2 events (peek: nothing is removed)
  redrive                 invoke the EC2 events function once per message; delete the message when it succeeds
  --outputs FILE          stack outputs written by \`cdk deploy --outputs-file\` (default: cdk-outputs.json)
  --stack NAME            stack whose outputs to use (default: SpotOptimizer)
  --queue-url URL         the queue (default: output DeadLetterQueueUrl; a forwarder's DLQ URL works too)
  --function NAME|ARN     the EC2 events function (default: output Ec2EventsFunctionArn)
  --region REGION         region when neither the queue URL nor the function ARN names it (default: AWS_REGION)
  --max N                 handle at most N messages (default: 100 for list, 1000 for redrive)
  --json                  print JSON instead of text
  -h, --help              this text`;

function stackOutputs(file: string, stack: string, explicit: boolean): Record<string, string> {
  if (!existsSync(file)) {
    if (explicit) throw new UsageError(`outputs file not found: ${file}`);
    return {};
  }
  const all = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, string>>;
  return all[stack] ?? {};
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags({
    args: argv,
    allowPositionals: true,
    options: {
      'outputs': { type: 'string' },
      'stack': { type: 'string', default: 'SpotOptimizer' },
      'queue-url': { type: 'string' },
      'function': { type: 'string' },
      'region': { type: 'string' },
      'max': { type: 'string' },
      'json': { type: 'boolean', default: false },
      'help': { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, ...extra] = positionals;
  if (command !== 'list' && command !== 'redrive') throw new UsageError(`expected list or redrive, got ${command ?? 'nothing'}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  const outputs = stackOutputs(values.outputs ?? 'cdk-outputs.json', values.stack, values.outputs !== undefined);
  const queueUrl = values['queue-url'] ?? outputs.DeadLetterQueueUrl;
  if (!queueUrl) throw new UsageError('no queue: pass --queue-url, or --outputs with a DeadLetterQueueUrl output');
  const max = numberFlag(values.max, '--max', { integer: true, min: 1 });
  const fallbackRegion = values.region ?? process.env.AWS_REGION;
  const queueRegion = regionOfQueueUrl(queueUrl) ?? fallbackRegion;
  const sqs = new SQSClient({ ...(queueRegion ? { region: queueRegion } : {}) });

  if (command === 'list') {
    const entries = (await listDlq(sqs, queueUrl, max ?? 100)).map(summarize);
    if (values.json) console.log(JSON.stringify(entries, null, 2));
    else {
      console.log(`${entries.length} message(s) in ${queueUrl}`);
      for (const e of entries) {
        console.log(`${e.message_id}  ${e.kind}  ${e.detail_type ?? '?'}  ${e.account ?? '?'}/${e.region ?? '?'}  ${e.instance_id ?? '-'}  event ${e.event_id ?? '?'}  received ${e.receive_count}x`);
        if (e.error) console.log(`    ${e.error}`);
      }
    }
    return 0;
  }

  const fn = values.function ?? outputs.Ec2EventsFunctionArn;
  if (!fn) throw new UsageError('no function: pass --function, or --outputs with an Ec2EventsFunctionArn output');
  const fnRegion = regionOfArn(fn) ?? fallbackRegion;
  const lambda = new LambdaClient({ ...(fnRegion ? { region: fnRegion } : {}) });
  const outcomes = await redriveDlq(sqs, lambda, queueUrl, fn, {
    ...(max ? { max } : {}),
    // Progress on stderr, one line per message, so a long redrive shows it is moving.
    onProgress: (o) => process.stderr.write(`${o.outcome.padEnd(8)} ${o.message_id}  event ${String(o.event_id)}  ${JSON.stringify(o.detail)}\n`),
  });
  const count = (what: string) => outcomes.filter((o) => o.outcome === what).length;
  const summary = { redriven: count('redriven'), failed: count('failed'), skipped: count('skipped') };
  console.log(values.json ? JSON.stringify({ ...summary, outcomes }, null, 2) : `redriven ${summary.redriven}, failed ${summary.failed} (left in the queue), skipped ${summary.skipped}`);
  return summary.failed + summary.skipped > 0 ? 1 : 0;
}

runCli('dlq', USAGE, main);

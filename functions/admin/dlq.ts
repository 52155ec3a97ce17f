import type { SQSClient } from '@aws-sdk/client-sqs';
import type * as Sdk from './sqs-sdk.js';

/** Deployed: its own bundle beside index.mjs (AppFunction `lazyModules`); from the sources, the module. A variable, so the bundler leaves it out. */
const SDK_MODULE = import.meta.url.endsWith('.mjs') ? './sqs-sdk.mjs' : './sqs-sdk.js';

/**
 * One SQS client per container: system-health reads the EC2-events dead-letter queue through it.
 * The SDK is imported on first use, so the admin function's cold start does not evaluate it.
 */
let sqs: SQSClient | undefined;

/** Messages in a queue: visible plus in flight (received, not yet deleted). */
export async function queueDepth(url: string): Promise<number> {
  const sdk = (await import(SDK_MODULE)) as typeof Sdk;
  sqs ??= new sdk.SQSClient({});
  const out = await sqs.send(
    new sdk.GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const attrs = out.Attributes ?? {};
  return Number(attrs.ApproximateNumberOfMessages ?? 0) + Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0);
}

import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

/** One SQS client per container: system-health reads the EC2-events dead-letter queue through it. */
const sqs = new SQSClient({});

/** Messages in a queue: visible plus in flight (received, not yet deleted). */
export async function queueDepth(url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const attrs = out.Attributes ?? {};
  return Number(attrs.ApproximateNumberOfMessages ?? 0) + Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0);
}

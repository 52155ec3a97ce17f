import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  type ReceiveMessageCommandInput,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/**
 * The EC2 events dead-letter queue, read and re-delivered (lib/OPERATIONS.md). Two producers leave two
 * shapes in it (lib/constructs/interruption-rules.ts): EventBridge, when it could not invoke the
 * function, leaves the raw event with ERROR_CODE/ERROR_MESSAGE/RULE_ARN attributes; Lambda, when the
 * function kept failing, leaves a destination record whose `requestPayload` is the event. A
 * forwarder's DLQ holds raw events too.
 */

export interface DlqEntry {
  messageId: string;
  receiptHandle: string;
  /** `undeliverable`: EventBridge could not deliver it; `failed`: the function failed on it. */
  kind: 'undeliverable' | 'failed' | 'unreadable';
  /** The EventBridge event to re-deliver (absent when the body is neither shape). */
  event?: Record<string, unknown>;
  error: string | null;
  sentAt: string | null;
  receiveCount: number;
}

/** Receives up to 10 at a time; a message stays hidden from other readers while a run handles it. */
const RECEIVE: Omit<ReceiveMessageCommandInput, 'QueueUrl'> = {
  MaxNumberOfMessages: 10,
  WaitTimeSeconds: 1,
  MessageAttributeNames: ['All'],
  MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
};
/** Longer than one synchronous invoke of the consumer (25 s timeout) with margin. */
export const REDRIVE_VISIBILITY_SECONDS = 120;
export const LIST_VISIBILITY_SECONDS = 30;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEvent = (v: unknown): v is Record<string, unknown> => isObject(v) && typeof v['detail-type'] === 'string' && 'detail' in v;

export function describeMessage(message: Message): DlqEntry {
  const base = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    sentAt: message.Attributes?.SentTimestamp ? new Date(Number(message.Attributes.SentTimestamp)).toISOString() : null,
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
  };
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return { ...base, kind: 'unreadable', error: 'the body is not JSON' };
  }
  if (isObject(body) && isEvent(body.requestPayload)) {
    const response = isObject(body.responsePayload) ? body.responsePayload : {};
    const context = isObject(body.requestContext) ? body.requestContext : {};
    const error = [response.errorType, response.errorMessage].filter((v) => typeof v === 'string').join(': ');
    return { ...base, kind: 'failed', event: body.requestPayload, error: error || String(context.condition ?? 'the function failed') };
  }
  if (isEvent(body)) {
    const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
    const error = [attribute('ERROR_CODE'), attribute('ERROR_MESSAGE')].filter(Boolean).join(': ');
    return { ...base, kind: 'undeliverable', event: body, error: error || null };
  }
  return { ...base, kind: 'unreadable', error: 'neither an EventBridge event nor a Lambda failure record' };
}

/** One line per entry: what, from where, about which instance, and why it failed. */
export function summarize(entry: DlqEntry): Record<string, unknown> {
  const e = entry.event ?? {};
  const detail = isObject(e.detail) ? e.detail : {};
  return {
    message_id: entry.messageId,
    kind: entry.kind,
    event_id: e.id ?? null,
    detail_type: e['detail-type'] ?? null,
    account: e.account ?? null,
    region: e.region ?? null,
    instance_id: detail['instance-id'] ?? null,
    time: e.time ?? null,
    error: entry.error,
    sent_at: entry.sentAt,
    receive_count: entry.receiveCount,
  };
}

/**
 * Receives messages (each once) until the queue yields nothing new or `max` are held. Every message
 * received is hidden for `visibilitySeconds` and returned with its receipt handle.
 */
async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  max: number,
  visibilitySeconds: number,
  each?: (entry: DlqEntry) => Promise<void>,
): Promise<DlqEntry[]> {
  const seen = new Map<string, DlqEntry>();
  while (seen.size < max) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: visibilitySeconds, ...RECEIVE }));
    const fresh = (out.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      if (seen.size >= max) break;
      const entry = describeMessage(message);
      seen.set(entry.messageId, entry);
      if (each) await each(entry);
    }
  }
  return [...seen.values()];
}

/** Makes messages visible again at once (instead of after their visibility timeout). */
async function release(sqs: SQSClient, queueUrl: string, entries: DlqEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: entries.slice(i, i + 10).map((e, j) => ({ Id: String(i + j), ReceiptHandle: e.receiptHandle, VisibilityTimeout: 0 })),
      }),
    );
  }
}

/** Lists (peeks at) up to `max` messages: received, described, released. Nothing is deleted. */
export async function listDlq(sqs: SQSClient, queueUrl: string, max = 100): Promise<DlqEntry[]> {
  const entries = await receiveAll(sqs, queueUrl, max, LIST_VISIBILITY_SECONDS);
  await release(sqs, queueUrl, entries);
  return entries;
}

export interface RedriveOutcome {
  message_id: string;
  event_id: unknown;
  outcome: 'redriven' | 'failed' | 'skipped';
  /** The consumer's answer (its status: processed, duplicate, unknown_instance…) or the error. */
  detail: unknown;
}

/**
 * Re-delivers each message's event to the EC2 events function, exactly once per message and run:
 * one synchronous Invoke; the message is deleted only after the function succeeded, and a message
 * the function failed on (or that holds no event) stays in the queue, released for the next look.
 * A message whose delete was lost is re-delivered by a later run; the consumer's event-id dedupe
 * makes that replay a no-op (status `duplicate`).
 */
export async function redriveDlq(
  sqs: SQSClient,
  lambda: LambdaClient,
  queueUrl: string,
  functionName: string,
  options: { max?: number; onProgress?: (outcome: RedriveOutcome) => void } = {},
): Promise<RedriveOutcome[]> {
  const outcomes: RedriveOutcome[] = [];
  const kept: DlqEntry[] = [];
  const decoder = new TextDecoder();
  await receiveAll(sqs, queueUrl, options.max ?? 1000, REDRIVE_VISIBILITY_SECONDS, async (entry) => {
    let outcome: RedriveOutcome;
    if (!entry.event) {
      outcome = { message_id: entry.messageId, event_id: null, outcome: 'skipped', detail: entry.error };
      kept.push(entry);
    } else {
      const res = await lambda.send(
        new InvokeCommand({
          FunctionName: functionName,
          InvocationType: 'RequestResponse',
          Payload: new TextEncoder().encode(JSON.stringify(entry.event)),
        }),
      );
      const text = res.Payload ? decoder.decode(res.Payload) : '';
      let answer: unknown = text;
      try {
        answer = JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      if (res.FunctionError) {
        outcome = { message_id: entry.messageId, event_id: entry.event.id, outcome: 'failed', detail: answer };
        kept.push(entry);
      } else {
        const status = isObject(answer) ? (answer.status ?? answer) : answer;
        try {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: entry.receiptHandle }));
          outcome = { message_id: entry.messageId, event_id: entry.event.id, outcome: 'redriven', detail: status };
        } catch (err) {
          // Processed but still queued: the next redrive replays it, and the consumer answers `duplicate`.
          const reason = err instanceof Error ? err.message : String(err);
          outcome = { message_id: entry.messageId, event_id: entry.event.id, outcome: 'failed', detail: `${String(status)}; delete failed: ${reason}` };
        }
      }
    }
    outcomes.push(outcome);
    options.onProgress?.(outcome);
  });
  await release(sqs, queueUrl, kept);
  return outcomes;
}

/** `https://sqs.<region>.amazonaws.com/<account>/<name>` → region (undefined for other forms). */
export const regionOfQueueUrl = (url: string): string | undefined => /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
/** `arn:aws:lambda:<region>:…` → region (undefined for a bare function name). */
export const regionOfArn = (arn: string): string | undefined => /^arn:aws[a-z-]*:[a-z0-9-]+:([a-z0-9-]+):/.exec(arn)?.[1];

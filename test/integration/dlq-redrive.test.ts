import { InvokeCommand, type InvokeCommandInput, LambdaClient } from '@aws-sdk/client-lambda';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { describeMessage, listDlq, redriveDlq, regionOfArn, regionOfQueueUrl } from '../../bin/support/dlq.js';
import { spotInterruptionWarning } from '../support/factories.js';
import { incidentsOf, sendEvent, setupAgent } from '../support/interruption.js';
import { mockAwsClients } from '../support/aws-mocks.js';

/**
 * `npm run dlq` (lib/OPERATIONS.md): SQS and Lambda are called through the real SDK clients, mocked with
 * aws-sdk-client-mock; every command sent is pinned. The replay case runs the real ec2-events
 * handler against DynamoDB Local behind the mocked Invoke.
 */
const { sqs, lambda } = mockAwsClients({ sqs: SQSClient, lambda: LambdaClient });

const QUEUE = 'https://sqs.us-east-1.amazonaws.com/123456789012/SpotOptimizer-Ec2EventsDeadLetterQueue';
const FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:SpotOptimizer-Ec2EventsConsumer';
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decode = (payload: InvokeCommandInput['Payload']) => JSON.parse(new TextDecoder().decode(payload as Uint8Array));

/** An event EventBridge could not deliver: the raw event, with its error attributes. */
const undeliverable = (id: string, event: object, receipt = `rh-${id}`): Message => ({
  MessageId: id,
  ReceiptHandle: receipt,
  Body: JSON.stringify(event),
  Attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1767225600000' },
  MessageAttributes: {
    ERROR_CODE: { DataType: 'String', StringValue: 'SDK_CLIENT_ERROR' },
    ERROR_MESSAGE: { DataType: 'String', StringValue: 'Lambda was throttled' },
    RULE_ARN: { DataType: 'String', StringValue: 'arn:aws:events:us-east-1:123456789012:rule/x' },
  },
});
/** An event the function kept failing on: Lambda's on-failure destination record. */
const failedRecord = (id: string, event: object): Message => ({
  MessageId: id,
  ReceiptHandle: `rh-${id}`,
  Body: JSON.stringify({
    version: '1.0',
    timestamp: '2026-01-01T00:00:00.000Z',
    requestContext: { requestId: 'r', functionArn: FUNCTION, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: { errorType: 'ConditionalCheckFailedException', errorMessage: 'throttled' },
  }),
  Attributes: { ApproximateReceiveCount: '2', SentTimestamp: '1767225600000' },
});

const RECEIVE_INPUT = {
  QueueUrl: QUEUE,
  MaxNumberOfMessages: 10,
  WaitTimeSeconds: 1,
  MessageAttributeNames: ['All'],
  MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
};

describe('reading the DLQ', () => {
  it('recognises both shapes and finds the event to re-deliver', () => {
    const event = spotInterruptionWarning();
    expect(describeMessage(undeliverable('a', event))).toMatchObject({
      kind: 'undeliverable',
      event,
      error: 'SDK_CLIENT_ERROR: Lambda was throttled',
      receiveCount: 1,
      sentAt: '2026-01-01T00:00:00.000Z',
    });
    expect(describeMessage(failedRecord('b', event))).toMatchObject({
      kind: 'failed',
      event,
      error: 'ConditionalCheckFailedException: throttled',
    });
    expect(describeMessage({ MessageId: 'c', ReceiptHandle: 'x', Body: 'not json' })).toMatchObject({ kind: 'unreadable' });
    expect(describeMessage({ MessageId: 'd', ReceiptHandle: 'x', Body: '{"hello":1}' }).event).toBeUndefined();
    expect(regionOfQueueUrl(QUEUE)).toBe('us-east-1');
    expect(regionOfArn(FUNCTION)).toBe('us-east-1');
    expect(regionOfArn('SpotOptimizer-Ec2EventsConsumer')).toBeUndefined();
  });

  it('list peeks: receives every message once, releases them, deletes and invokes nothing', async () => {
    const a = undeliverable('a', spotInterruptionWarning());
    const b = failedRecord('b', spotInterruptionWarning());
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: [a, b] }).resolvesOnce({ Messages: [a] }).resolves({});
    const entries = await listDlq(new SQSClient({ region: 'us-east-1' }), QUEUE);
    expect(entries.map((e) => e.messageId)).toEqual(['a', 'b']);
    expect(sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input)).toEqual([
      { ...RECEIVE_INPUT, VisibilityTimeout: 30 },
      { ...RECEIVE_INPUT, VisibilityTimeout: 30 },
    ]);
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: QUEUE,
        Entries: [
          { Id: '0', ReceiptHandle: 'rh-a', VisibilityTimeout: 0 },
          { Id: '1', ReceiptHandle: 'rh-b', VisibilityTimeout: 0 },
        ],
      },
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand)).toEqual([]);
    expect(lambda.calls()).toEqual([]);
  });
});

describe('redrive', () => {
  it('invokes the function exactly once per message and deletes exactly the messages it succeeded on', async () => {
    const ok = spotInterruptionWarning();
    const dup = spotInterruptionWarning();
    const bad = spotInterruptionWarning();
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({ Messages: [undeliverable('m1', ok), failedRecord('m2', dup)] })
      // m1 again (its visibility ran out elsewhere): same message, new receipt handle — not re-invoked.
      .resolvesOnce({ Messages: [failedRecord('m3', bad), { MessageId: 'm4', ReceiptHandle: 'rh-m4', Body: '[]' }, undeliverable('m1', ok, 'rh-m1-again')] })
      .resolves({ Messages: [] });
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    lambda
      .on(InvokeCommand)
      .callsFake((input: InvokeCommandInput) => {
        const event = decode(input.Payload);
        if (event.id === bad.id) {
          return { StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: 'MalformedEventError', errorMessage: 'malformed' }) };
        }
        return { StatusCode: 200, Payload: encode({ status: event.id === dup.id ? 'duplicate' : 'processed', event_id: event.id }) };
      });

    const outcomes = await redriveDlq(new SQSClient({ region: 'us-east-1' }), new LambdaClient({ region: 'us-east-1' }), QUEUE, FUNCTION);

    const invokes = lambda.commandCalls(InvokeCommand).map((c) => c.args[0].input);
    expect(invokes.map((i) => ({ ...i, Payload: decode(i.Payload) }))).toEqual([
      { FunctionName: FUNCTION, InvocationType: 'RequestResponse', Payload: ok },
      { FunctionName: FUNCTION, InvocationType: 'RequestResponse', Payload: dup },
      { FunctionName: FUNCTION, InvocationType: 'RequestResponse', Payload: bad },
    ]);
    expect(sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input)).toEqual([
      { QueueUrl: QUEUE, ReceiptHandle: 'rh-m1' },
      { QueueUrl: QUEUE, ReceiptHandle: 'rh-m2' },
    ]);
    expect(sqs.commandCalls(ReceiveMessageCommand).map((c) => c.args[0].input)).toEqual([
      { ...RECEIVE_INPUT, VisibilityTimeout: 120 },
      { ...RECEIVE_INPUT, VisibilityTimeout: 120 },
      { ...RECEIVE_INPUT, VisibilityTimeout: 120 },
    ]);
    // What could not be redriven is visible again at once for the next `list`.
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input)).toEqual([
      {
        QueueUrl: QUEUE,
        Entries: [
          { Id: '0', ReceiptHandle: 'rh-m3', VisibilityTimeout: 0 },
          { Id: '1', ReceiptHandle: 'rh-m4', VisibilityTimeout: 0 },
        ],
      },
    ]);
    expect(outcomes.map((o) => [o.message_id, o.outcome, o.outcome === 'failed' ? null : o.detail])).toEqual([
      ['m1', 'redriven', 'processed'],
      ['m2', 'redriven', 'duplicate'],
      ['m3', 'failed', null],
      ['m4', 'skipped', 'neither an EventBridge event nor a Lambda failure record'],
    ]);
  });

  it('a delete lost after a successful invoke: the next run replays the event, and the event-id dedupe makes it a no-op', async () => {
    const agent = await setupAgent();
    const event = spotInterruptionWarning({ instanceId: agent.instanceId });
    const message = failedRecord('lost-delete', event);
    sqs.on(ReceiveMessageCommand).resolvesOnce({ Messages: [message] }).resolvesOnce({}).resolvesOnce({ Messages: [message] }).resolves({});
    sqs.on(DeleteMessageCommand).rejectsOnce(new Error('connection reset')).resolves({});
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
    // Behind the mocked Invoke: the real ec2-events handler on DynamoDB Local.
    lambda.on(InvokeCommand).callsFake(async (input: InvokeCommandInput) => ({
      StatusCode: 200,
      Payload: encode(await sendEvent(decode(input.Payload))),
    }));
    const clients = [new SQSClient({ region: 'us-east-1' }), new LambdaClient({ region: 'us-east-1' })] as const;

    const first = await redriveDlq(...clients, QUEUE, FUNCTION);
    expect(first).toEqual([expect.objectContaining({ outcome: 'failed', detail: 'processed; delete failed: connection reset' })]);
    const second = await redriveDlq(...clients, QUEUE, FUNCTION);

    expect(second).toEqual([expect.objectContaining({ outcome: 'redriven', detail: 'duplicate' })]);
    expect(lambda.commandCalls(InvokeCommand)).toHaveLength(2);
    expect(sqs.commandCalls(DeleteMessageCommand)).toHaveLength(2);
    expect(await incidentsOf(agent.agentId)).toHaveLength(1);
  });
});

/**
 * The SQS SDK pieces dlq.ts uses, in a module of their own: imported on first use, and re-exported
 * by name so the bundler keeps only these (a dynamic import of the package would bring all of it).
 */
export { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';

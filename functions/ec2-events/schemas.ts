import * as z from 'zod';
import { ec2InstanceId } from '../shared/http/schemas.js';

/**
 * EventBridge events the consumer acts on, exactly as AWS documents them (EC2-SIGNALS.md §0–§4).
 * Validated once, at the edge: a malformed event throws (EventBridge retries, then the DLQ); a
 * well-formed event of a kind we do not act on is reported as `ignored`.
 */

/** `i-` + 8 or 17 hex digits: the same schema the HTTP routes validate instance ids with. */
export { ec2InstanceId };

/** EventBridge `time` (yyyy-mm-ddThh:mm:ssZ); any ISO-8601 with an offset is accepted. */
const eventTime = z
  .string()
  .min(10)
  .max(40)
  .refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO-8601 time');

export const envelopeSchema = z.object({
  // Always "0" on the wire; the EC2 guide's state-change example omits it (EC2-SIGNALS.md §3), so it is optional.
  'version': z.string().max(8).optional(),
  'id': z.string().min(1).max(128),
  'detail-type': z.string().min(1).max(256),
  'source': z.string().min(1).max(256),
  'account': z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  'time': eventTime,
  'region': z.string().min(1).max(64),
  'resources': z.array(z.string().max(2048)).max(10_000),
  'detail': z.record(z.string(), z.unknown()),
});

export const spotInterruptionSchema = envelopeSchema.extend({
  'detail-type': z.literal('EC2 Spot Instance Interruption Warning'),
  'source': z.literal('aws.ec2'),
  'detail': z.object({
    'instance-id': ec2InstanceId,
    'instance-action': z.enum(['terminate', 'stop', 'hibernate']),
  }),
});

export const rebalanceSchema = envelopeSchema.extend({
  'detail-type': z.literal('EC2 Instance Rebalance Recommendation'),
  'source': z.literal('aws.ec2'),
  'detail': z.object({ 'instance-id': ec2InstanceId }),
});

export const stateChangeSchema = envelopeSchema.extend({
  'detail-type': z.literal('EC2 Instance State-change Notification'),
  'source': z.literal('aws.ec2'),
  'detail': z.object({
    'instance-id': ec2InstanceId,
    'state': z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']),
  }),
});

/** Health's entity values are bare instance ids for EC2; an ARN form is accepted defensively (EC2-SIGNALS.md §12). */
const healthEntity = z.object({ entityValue: z.string().min(1).max(2048) }).passthrough();

export const healthSchema = envelopeSchema.extend({
  'detail-type': z.literal('AWS Health Event'),
  'source': z.literal('aws.health'),
  'detail': z
    .object({
      eventArn: z.string().min(1).max(2048),
      service: z.string().min(1).max(64),
      eventTypeCode: z.string().min(1).max(256),
      eventTypeCategory: z.string().min(1).max(64),
      /** RFC-1123 (`Wed, 16 Aug 2023 23:18:51 GMT`), not ISO-8601. */
      startTime: z
        .string()
        .max(64)
        .refine((v) => !Number.isNaN(Date.parse(v)), 'must be a date')
        .optional(),
      endTime: z.string().max(64).optional(),
      statusCode: z.string().max(32).optional(),
      affectedEntities: z.array(healthEntity).max(10_000).optional(),
    })
    .passthrough(),
});

export type SpotInterruptionEvent = z.infer<typeof spotInterruptionSchema>;
export type RebalanceEvent = z.infer<typeof rebalanceSchema>;
export type StateChangeEvent = z.infer<typeof stateChangeSchema>;
export type HealthEvent = z.infer<typeof healthSchema>;

export type ParsedEvent =
  | { kind: 'spot-interruption'; event: SpotInterruptionEvent }
  | { kind: 'rebalance'; event: RebalanceEvent }
  | { kind: 'state-change'; event: StateChangeEvent }
  | { kind: 'health'; event: HealthEvent }
  | { kind: 'ignored'; event: z.infer<typeof envelopeSchema>; reason: string };

/** A malformed event: thrown so the invocation fails (EventBridge retries it, then sends it to the DLQ). */
export class MalformedEventError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'MalformedEventError';
  }
}

const issuesOf = (error: z.ZodError) =>
  error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));

function parseWith<T>(schema: z.ZodType<T>, raw: unknown, what: string): T {
  const out = schema.safeParse(raw);
  if (!out.success) throw new MalformedEventError(`malformed ${what} event`, issuesOf(out.error));
  return out.data;
}

/** Validates an EventBridge event and classifies it. Throws MalformedEventError. */
export function parseEc2Event(raw: unknown): ParsedEvent {
  const envelope = parseWith(envelopeSchema, raw, 'EventBridge');
  switch (envelope['detail-type']) {
    case 'EC2 Spot Instance Interruption Warning':
      return { kind: 'spot-interruption', event: parseWith(spotInterruptionSchema, raw, 'spot interruption warning') };
    case 'EC2 Instance Rebalance Recommendation':
      return { kind: 'rebalance', event: parseWith(rebalanceSchema, raw, 'rebalance recommendation') };
    case 'EC2 Instance State-change Notification':
      return { kind: 'state-change', event: parseWith(stateChangeSchema, raw, 'instance state-change') };
    case 'AWS Health Event':
      return { kind: 'health', event: parseWith(healthSchema, raw, 'AWS Health') };
    default:
      return { kind: 'ignored', event: envelope, reason: `detail-type "${envelope['detail-type']}" is not acted on` };
  }
}

/** Instance ids named by a Health event: `affectedEntities[].entityValue`, else `resources` (bare ids or ARNs). */
export function healthInstanceIds(event: HealthEvent): string[] {
  const fromArn = (v: string) => (v.startsWith('arn:') ? (v.split('/').pop() ?? v) : v);
  const values = event.detail.affectedEntities?.map((e) => e.entityValue) ?? [];
  const all = (values.length > 0 ? values : event.resources).map(fromArn);
  return [...new Set(all.filter((v) => ec2InstanceId.safeParse(v).success))];
}

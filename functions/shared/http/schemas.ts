import * as z from 'zod';
import { isIsoTimestamp, parseTimestamp } from '../domain/ids.js';

/**
 * Reusable zod pieces for route schemas. Query strings arrive as strings, so numeric and boolean
 * query fields coerce; bodies are JSON and stay strict about types.
 */

export const uuid = z.string().uuid();
/**
 * An EC2 instance id: `i-` + 8 or 17 lower-case hex digits — the one schema every route and the
 * EC2-events consumer validate with, so an agent can only register ids EventBridge signals can name.
 */
export const ec2InstanceId = z.string().regex(/^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/, 'must be an EC2 instance id (i- + 8 or 17 hex digits)');
/** Where API.md also allows a replica placeholder (`replica-<8hex>`, §3.0) besides an EC2 id. */
export const instanceOrPlaceholderId = z.union([ec2InstanceId, z.string().regex(/^replica-[0-9a-f]{8}$/)], {
  error: 'must be an EC2 instance id (i- + 8 or 17 hex digits) or a replica-<8hex> placeholder',
});
/** Every route that takes an instance id validates it as EC2 does. */
export const instanceId = ec2InstanceId;
export const poolId = z.string().min(3).max(128).regex(/^[^\s.]+\.[^\s]+\.[a-z0-9-]+$/i, 'pool id must be <instance_type>.<az>');
export const isoTimestamp = z
  .string()
  .min(10)
  .max(40)
  .refine(isIsoTimestamp, { message: 'must be an ISO-8601 date or date-time with a real calendar date' });
/** A `from`/`to` query range (both optional ISO-8601 instants). */
export const range = { from: isoTimestamp.optional(), to: isoTimestamp.optional() };

/** A query object with a {@link range}: `from` later than `to` is a 400 naming `query.from`. */
export const rangedQuery = <T extends z.ZodRawShape>(shape: T) =>
  z.object({ ...range, ...shape }).superRefine((q, ctx) => {
    const { from, to } = q as { from?: string; to?: string };
    if (from && to && parseTimestamp(from).getTime() > parseTimestamp(to).getTime()) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must not be later than to' });
    }
  });

export const mode = z.enum(['spot', 'ondemand']);
/** `unknown` is treated as `ondemand` (API.md §1.2). */
export const modeInput = z
  .enum(['spot', 'ondemand', 'unknown'])
  .transform((m): 'spot' | 'ondemand' => (m === 'spot' ? 'spot' : 'ondemand'));
export const money = z.number().nonnegative().finite();

export const queryInt = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);
export const queryBool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .default(fallback);

/** `limit` (default 50, max 200) and an opaque `nextToken` (API.md §1.2 Lists). */
export const pagination = {
  limit: queryInt(1, 200, 50),
  nextToken: z.string().max(2048).optional(),
};

export const version = z.number().int().positive();

export const cidParams = z.object({ cid: uuid });
export const aidParams = z.object({ aid: uuid });
export const iidParams = z.object({ iid: instanceId });

/** Agent-wire success envelope: the keys the agent reads plus `success: true`. */
export const wireSuccess = { success: z.literal(true) };

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.array(z.object({ field: z.string(), issue: z.string() }).passthrough()),
    request_id: z.string().optional(),
  }),
});

/** Response objects are open (fields may be added) but the listed ones must be present. */
export const obj = <T extends z.ZodRawShape>(shape: T) => z.object(shape).passthrough();
export const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();
/** The response fields every resource schema uses most: a string or number that may be null. */
export const nstr = nullable(z.string());
export const nnum = nullable(z.number());

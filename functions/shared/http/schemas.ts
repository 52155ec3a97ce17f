import * as z from 'zod';

/**
 * Reusable zod pieces for route schemas. Query strings arrive as strings, so numeric and boolean
 * query fields coerce; bodies are JSON and stay strict about types.
 */

export const uuid = z.string().uuid();
/** EC2 instance ids, and `replica-<8hex>` placeholders where API.md allows them. */
export const instanceId = z.string().min(1).max(64);
export const poolId = z.string().min(3).max(128).regex(/^[^\s.]+\.[^\s]+\.[a-z0-9-]+$/i, 'pool id must be <instance_type>.<az>');
export const isoTimestamp = z
  .string()
  .min(4)
  .max(40)
  .refine((v) => !Number.isNaN(Date.parse(/(Z|[+-]\d{2}:?\d{2})$/i.test(v) || !v.includes('T') ? v : `${v}Z`)), {
    message: 'must be an ISO-8601 timestamp',
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

import * as z from 'zod';
import { count } from '../shared/http/resource-schemas.js';
import { defineRoute } from '../shared/http/route.js';
import {
  aidParams,
  instanceId,
  isoTimestamp,
  modeInput,
  money,
  nullable,
  obj,
  poolId,
  uuid,
  wireSuccess,
} from '../shared/http/schemas.js';

const instanceType = z.string().min(1).max(64);
const region = z.string().min(1).max(32);
const az = z.string().min(1).max(32);

const pricingReportBody = z.object({
  instance: z.object({
    instance_id: instanceId,
    instance_type: instanceType,
    region,
    az,
    mode: modeInput,
    pool_id: poolId.nullable(),
  }),
  pricing: z.object({
    on_demand_price: money.nullable(),
    current_spot_price: money.nullable(),
    cheapest_pool: z.object({ pool_id: poolId, price: money }).nullable(),
    spot_pools: z
      .array(z.object({ pool_id: poolId, instance_type: instanceType, az, price: money }))
      .max(200),
    collected_at: isoTimestamp,
  }),
});

/** old_instance / new_instance of a switch report. An on-demand side has no pool (the agent sends null). */
const switchInstance = z.object({
  instance_id: instanceId,
  instance_type: instanceType,
  region,
  az,
  ami_id: z.string().max(64).nullable(),
  mode: modeInput,
  pool_id: poolId.nullable(),
});

const switchPrices = z.object({
  on_demand: money.nullable(),
  old_spot: money.nullish(),
  new_spot: money.nullish(),
});

const ts = isoTimestamp.nullish();

/** The canonical switch report the service receives (agent keys; alternatives folded in). */
export interface SwitchReport {
  old_instance: z.infer<typeof switchInstance>;
  new_instance: z.infer<typeof switchInstance>;
  snapshot: { used: boolean } | null;
  prices: { on_demand: number | null; old_spot: number | null; new_spot: number | null };
  timing: {
    switch_initiated_at: string;
    new_instance_launched_at: string;
    new_instance_ready_at: string;
    traffic_switched_at: string;
    old_instance_terminated_at: string | null;
  };
  /** Advisory only: the server records the command's own trigger. */
  trigger: string;
  command_id: string | null;
}

/**
 * switch-report accepts the agent keys and the [alternative] keys of API.md §3.10; when both are
 * sent the agent key wins. The transform folds them so the service sees one shape, and reports a
 * field missing under both spellings as `required` at the agent key's path.
 */
const switchReportBody = z
  .object({
    old_instance: switchInstance,
    new_instance: switchInstance,
    snapshot: z.object({ used: z.boolean() }).passthrough().nullish(),
    prices: switchPrices.nullish(),
    pricing: switchPrices.nullish(),
    timing: z.object({
      switch_initiated_at: ts,
      initiated_at: ts,
      new_instance_launched_at: ts,
      instance_launched_at: ts,
      new_instance_ready_at: ts,
      instance_ready_at: ts,
      traffic_switched_at: ts,
      old_instance_terminated_at: ts,
      old_terminated_at: ts,
    }),
    trigger: z.string().max(32),
    command_id: uuid.nullish(),
  })
  .transform((b, ctx): SwitchReport => {
    const t = b.timing;
    const prices = b.prices ?? b.pricing;
    const timing = {
      switch_initiated_at: t.switch_initiated_at ?? t.initiated_at,
      new_instance_launched_at: t.new_instance_launched_at ?? t.instance_launched_at,
      new_instance_ready_at: t.new_instance_ready_at ?? t.instance_ready_at,
      traffic_switched_at: t.traffic_switched_at,
    };
    const missing: (string | number)[][] = [];
    if (!prices) missing.push(['prices']);
    for (const [key, value] of Object.entries(timing)) if (!value) missing.push(['timing', key]);
    for (const path of missing) ctx.issues.push({ code: 'custom', message: 'required', input: b, path });
    if (!prices || missing.length > 0) return z.NEVER;
    return {
      old_instance: b.old_instance,
      new_instance: b.new_instance,
      snapshot: b.snapshot ?? null,
      prices: {
        on_demand: prices.on_demand,
        old_spot: prices.old_spot ?? null,
        new_spot: prices.new_spot ?? null,
      },
      timing: {
        switch_initiated_at: timing.switch_initiated_at as string,
        new_instance_launched_at: timing.new_instance_launched_at as string,
        new_instance_ready_at: timing.new_instance_ready_at as string,
        traffic_switched_at: timing.traffic_switched_at as string,
        old_instance_terminated_at: t.old_instance_terminated_at ?? t.old_terminated_at ?? null,
      },
      trigger: b.trigger,
      command_id: b.command_id ?? null,
    };
  });

const failedItem = z.object({ id: z.string().max(256), error: z.string().max(4000).nullish() });
/** An id list as the v4 agent sends it, or a plain count (the service counts either). */
const idsOrCount = z.union([z.array(z.string().max(256)), count]);
const failedList = z.union([z.array(z.union([failedItem, z.string().max(256)])), count]);

/**
 * cleanup-report as the v4 agent sends it: id lists of what was deleted. `cutoff_date` is absent
 * when a cleanup step failed (the agent then sends `error`), so it is optional here.
 */
const cleanupReportBody = z.object({
  timestamp: isoTimestamp,
  snapshots: z.object({
    type: z.string().max(32),
    deleted: idsOrCount,
    failed: failedList,
    cutoff_date: isoTimestamp.nullish(),
    error: z.string().max(4000).nullish(),
  }),
  amis: z.object({
    type: z.string().max(32),
    deleted_amis: idsOrCount,
    deleted_snapshots: idsOrCount,
    failed: failedList,
    cutoff_date: isoTimestamp.nullish(),
    error: z.string().max(4000).nullish(),
  }),
});

/** API.md §3.10: 4 agent wire routes. */
export const reportingRoutes = {
  pricingReport: defineRoute({
    operationId: 'pricingReport',
    method: 'POST',
    path: '/api/agents/{aid}/pricing-report',
    group: 'reporting',
    auth: 'agent-client',
    wire: true,
    summary: 'Pricing report (every 300 s): updates instance prices and stages one point per pool',
    params: aidParams,
    body: pricingReportBody,
    response: obj({ ...wireSuccess, report_id: z.string(), pools_recorded: count }),
  }),
  switchReport: defineRoute({
    operationId: 'switchReport',
    method: 'POST',
    path: '/api/agents/{aid}/switch-report',
    group: 'reporting',
    auth: 'agent-client',
    wire: true,
    summary:
      'Switch report after a successful switch: stores the Switch, makes the new instance PRIMARY and the old one TERMINATED or ZOMBIE',
    params: aidParams,
    body: switchReportBody,
    response: obj({
      ...wireSuccess,
      switch_id: z.string(),
      savings_impact: nullable(z.number()),
      old_instance_status: z.enum(['terminated', 'zombie']),
    }),
  }),
  terminationReport: defineRoute({
    operationId: 'terminationReport',
    method: 'POST',
    path: '/api/agents/{aid}/termination-report',
    group: 'reporting',
    auth: 'agent-client',
    wire: true,
    summary:
      'Result of terminating an instance (success: TERMINATED, confirmed; failure: listed again after 5 min)',
    params: aidParams,
    body: z.object({
      instance_id: instanceId,
      success: z.boolean(),
      error: z.string().max(4000).nullish(),
      terminated_at: isoTimestamp.nullish(),
    }),
    response: obj({ ...wireSuccess, message: z.string(), instance_id: z.string(), status: z.string() }),
  }),
  cleanupReport: defineRoute({
    operationId: 'cleanupReport',
    method: 'POST',
    path: '/api/agents/{aid}/cleanup-report',
    group: 'reporting',
    auth: 'agent-client',
    wire: true,
    summary: 'Hourly snapshot/AMI cleanup report (stored 90 days)',
    params: aidParams,
    body: cleanupReportBody,
    response: obj({
      ...wireSuccess,
      message: z.string(),
      deleted_snapshots: count,
      deleted_amis: count,
      failed_count: count,
    }),
  }),
};

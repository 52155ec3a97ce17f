import * as z from 'zod';
import {
  count,
  instanceRole,
  instanceSchema,
  optionalNextToken,
  poolPriceSchema,
  severity,
} from '../shared/http/resource-schemas.js';
import { defineRoute } from '../shared/http/route.js';
import {
  cidParams,
  iidParams,
  mode,
  nnum,
  nstr,
  nullable,
  obj,
  pagination,
  poolId,
  queryInt,
  uuid,
} from '../shared/http/schemas.js';

const interval = z.enum(['hour', 'day']);

const logEventType = z.enum([
  'registered',
  'became_primary',
  'became_replica',
  'became_zombie',
  'switch_initiated',
  'rebalance_notice',
  'termination_notice',
  'promoted',
  'terminated',
]);

/** Volatility = stddev/mean: low < 0.05, medium < 0.15, high otherwise. */
const volatilityEntry = obj({
  pool_id: z.string(),
  avg_price: nnum,
  price_stddev: nnum,
  volatility_score: nnum,
  volatility_category: nullable(z.enum(['low', 'medium', 'high'])),
  risk_score: nnum,
});

/** API.md §3.8: 9 client routes. */
export const instancesRoutes = {
  listClientInstances: defineRoute({
    operationId: 'listClientInstances',
    method: 'GET',
    path: '/api/client/{cid}/instances',
    group: 'instances',
    auth: 'client',
    summary: "A client's instances (active by default)",
    params: cidParams,
    query: z.object({
      status: z.enum(['active', 'primary', 'replica', 'zombie', 'terminated', 'all']).default('active'),
      mode: mode.optional(),
      agent_id: uuid.optional(),
      search: z.string().max(200).optional(),
      ...pagination,
    }),
    response: obj({ instances: z.array(instanceSchema), nextToken: optionalNextToken }),
  }),
  getInstancePricing: defineRoute({
    operationId: 'getInstancePricing',
    method: 'GET',
    path: '/api/client/instances/{iid}/pricing',
    group: 'instances',
    auth: 'client',
    summary: 'Current prices of the instance and of the pools of its type',
    params: iidParams,
    response: obj({
      current_mode: mode,
      current_pool: nullable(obj({ id: z.string(), az: z.string(), price: nnum })),
      on_demand: obj({ price: nnum }),
      pools: z.array(poolPriceSchema),
    }),
  }),
  getInstanceMetrics: defineRoute({
    operationId: 'getInstanceMetrics',
    method: 'GET',
    path: '/api/client/instances/{iid}/metrics',
    group: 'instances',
    auth: 'client',
    summary: 'Instance metrics: prices, uptime, switches, savings',
    params: iidParams,
    response: obj({
      role: instanceRole,
      spot_price: nnum,
      ondemand_price: nnum,
      baseline_ondemand_price: nnum,
      uptime_hours: z.number(),
      hours_since_last_switch: nnum,
      total_switches: count,
      savings_rate_per_hour: nnum,
      total_savings: z.number(),
    }),
  }),
  getInstancePriceHistory: defineRoute({
    operationId: 'getInstancePriceHistory',
    method: 'GET',
    path: '/api/client/instances/{iid}/price-history',
    group: 'instances',
    auth: 'client',
    summary: 'Price history of the pools of the instance type',
    params: iidParams,
    query: z.object({ days: queryInt(1, 90, 7), interval: interval.optional() }),
    response: obj({
      pools: z.array(obj({ pool_id: z.string(), az: z.string() })),
      points: z.array(
        obj({ time: z.string(), on_demand: nnum, prices: z.record(z.string(), nullable(z.number())) }),
      ),
    }),
  }),
  getPricingHistory: defineRoute({
    operationId: 'getPricingHistory',
    method: 'GET',
    path: '/api/client/pricing-history',
    group: 'instances',
    auth: 'client',
    summary: 'Price history for one agent (default: the most recently seen agent)',
    query: z.object({ agent_id: uuid.optional(), days: queryInt(1, 90, 7), interval: interval.optional() }),
    response: obj({
      agent_id: z.string(),
      instance_type: nstr,
      region: nstr,
      history: z.array(
        obj({
          timestamp: z.string(),
          ondemand_price: nnum,
          spot_pools: z.array(obj({ pool_id: z.string(), az: z.string(), price: z.number() })),
        }),
      ),
    }),
  }),
  getAvailableOptions: defineRoute({
    operationId: 'getAvailableOptions',
    method: 'GET',
    path: '/api/client/instances/{iid}/available-options',
    group: 'instances',
    auth: 'client',
    summary: 'Switch targets: pools of the same type (other types are informational: never switchable)',
    params: iidParams,
    response: obj({
      current_type: z.string(),
      current_az: z.string(),
      available_pools: z.array(poolPriceSchema),
      available_types: z.array(obj({ instance_type: z.string(), switchable: z.literal(false) })),
    }),
  }),
  getInstanceLogs: defineRoute({
    operationId: 'getInstanceLogs',
    method: 'GET',
    path: '/api/client/instances/{iid}/logs',
    group: 'instances',
    auth: 'client',
    summary: 'Lifecycle log of an instance, newest first',
    params: iidParams,
    query: z.object({ severity: severity.optional(), ...pagination }),
    response: obj({
      events: z.array(
        obj({
          id: z.string(),
          timestamp: z.string(),
          event_type: logEventType,
          severity,
          message: z.string(),
          metadata: nullable(z.record(z.string(), z.unknown())),
        }),
      ),
      nextToken: optionalNextToken,
    }),
  }),
  getPoolVolatility: defineRoute({
    operationId: 'getPoolVolatility',
    method: 'GET',
    path: '/api/client/instances/{iid}/pool-volatility',
    group: 'instances',
    auth: 'client',
    summary:
      'Stability of the current pool and its alternatives; the best alternative carries recommendation: "best"',
    params: iidParams,
    query: z.object({ window_hours: queryInt(1, 168, 24) }),
    response: obj({
      current_pool: nullable(volatilityEntry),
      alternative_pools: z.array(volatilityEntry.extend({ recommendation: z.literal('best').optional() })),
    }),
  }),
  simulateSwitch: defineRoute({
    operationId: 'simulateSwitch',
    method: 'POST',
    path: '/api/client/instances/{iid}/simulate-switch',
    group: 'instances',
    auth: 'client',
    summary: 'What-if switch, no side effects (daily = hourly × 24, monthly = hourly × 730)',
    params: iidParams,
    body: z.object({
      target_type: z.enum(['spot', 'ondemand']).default('spot'),
      target_pool: poolId.optional(),
    }),
    response: obj({
      current_price: nnum,
      target_pool_id: nstr,
      target_price: nnum,
      hourly_savings: nnum,
      daily_savings: nnum,
      monthly_savings: nnum,
      estimated_downtime_seconds: nnum,
      confidence: z.number().min(0).max(1),
      recommendation: z.enum(['proceed', 'caution', 'not_recommended']),
      reasons: z.array(z.string()),
    }),
  }),
};

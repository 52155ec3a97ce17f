import * as z from 'zod';
import {
  commandSchema,
  commandStatus,
  count,
  emergencyLogFilters,
  emergencyLogPage,
} from '../shared/http/resource-schemas.js';
import { defineRoute } from '../shared/http/route.js';
import {
  aidParams,
  cidParams,
  nnum,
  nstr,
  obj,
  pagination,
  queryInt,
  uuid,
} from '../shared/http/schemas.js';

const windowQuery = z.object({ days: queryInt(1, 90, 30) });
const window = obj({ from: z.string(), to: z.string(), days: count });

/** p50/p95 of one latency, in milliseconds, over `count` measured incidents. */
const latency = obj({ count, p50_ms: nnum, p95_ms: nnum, max_ms: nnum });

/**
 * Read models for people (the web console), not in API.md's catalog: an agent's commands and
 * decisions with their reasons, a client's emergency log, daily savings, and the console's three
 * computed panels (savings by cause, per-pool table, failover latency). All read-only, all from
 * stored data through documented keys (README: "Console additions to the API").
 */
export const insightsRoutes = {
  listAgentCommands: defineRoute({
    operationId: 'listAgentCommands',
    method: 'GET',
    path: '/api/client/agents/{aid}/commands',
    group: 'insights',
    auth: 'client',
    summary: "An agent's commands, newest first (pending and recent); `open` = pending, acknowledged or executing",
    params: aidParams,
    query: z.object({ status: z.union([z.enum(['open', 'final']), commandStatus]).optional(), ...pagination }),
    response: obj({ commands: z.array(commandSchema), nextToken: nstr }),
  }),
  listAgentDecisions: defineRoute({
    operationId: 'listAgentDecisions',
    method: 'GET',
    path: '/api/client/agents/{aid}/decision-log',
    group: 'insights',
    auth: 'client',
    summary: "An agent's stored decisions (30 days), newest first, with the engine's reason",
    params: aidParams,
    query: z.object({ ...pagination }),
    response: obj({
      decisions: z.array(
        obj({
          decision_id: z.string(),
          decision_type: z.string(),
          recommended_action: z.string(),
          recommended_mode: z.string(),
          recommended_pool_id: nstr,
          current_mode: nstr,
          current_pool_id: nstr,
          risk_score: nnum,
          expected_savings_per_hour: nnum,
          confidence: nnum,
          allowed: z.boolean(),
          reason: z.string(),
          trigger: nstr,
          created_at: z.string(),
        }),
      ),
      nextToken: nstr,
    }),
  }),
  listClientEmergencyEvents: defineRoute({
    operationId: 'listClientEmergencyEvents',
    method: 'GET',
    path: '/api/client/{cid}/insights/emergencies',
    group: 'insights',
    auth: 'client',
    summary: "A client's emergency log (the admin route's shape), newest first; `agent_id` narrows it to one agent",
    params: cidParams,
    query: z.object({ agent_id: uuid.optional(), ...emergencyLogFilters }),
    response: emergencyLogPage,
  }),
  getDailySavings: defineRoute({
    operationId: 'getDailySavings',
    method: 'GET',
    path: '/api/client/{cid}/savings/daily',
    group: 'insights',
    auth: 'client',
    summary: 'Savings per frozen day (the daily snapshots the CSV export lists) with a running total',
    params: cidParams,
    query: z.object({ days: queryInt(1, 365, 30) }),
    response: obj({
      days: z.array(
        obj({
          date: z.string(),
          savings: z.number(),
          ondemand_cost: z.number(),
          actual_cost: z.number(),
          spot_hours: z.number(),
          ondemand_hours: z.number(),
          cumulative_savings: z.number(),
        }),
      ),
      totals: obj({ savings: z.number(), ondemand_cost: z.number(), actual_cost: z.number() }),
      as_of: nstr,
    }),
  }),
  getSavingsByCause: defineRoute({
    operationId: 'getSavingsByCause',
    method: 'GET',
    path: '/api/client/{cid}/insights/savings-by-cause',
    group: 'insights',
    auth: 'client',
    summary: 'Net savings split by cause: time on spot, replica overhead (negative), on-demand fallback time',
    params: cidParams,
    query: windowQuery,
    response: obj({
      window,
      spot: obj({ savings: z.number(), hours: z.number() }),
      replica_overhead: obj({ cost: z.number(), hours: z.number(), replicas: count }),
      ondemand_fallback: obj({ hours: z.number(), share_of_hours: nnum, cost: z.number() }),
      net_savings: z.number(),
      ondemand_baseline: z.number(),
      actual_cost: z.number(),
    }),
  }),
  getPoolInsights: defineRoute({
    operationId: 'getPoolInsights',
    method: 'GET',
    path: '/api/client/{cid}/insights/pools',
    group: 'insights',
    auth: 'client',
    summary: "Every pool the client's PRIMARYs ran in: price, risk, interruptions observed, time spent",
    params: cidParams,
    query: windowQuery,
    response: obj({
      window,
      pools: z.array(
        obj({
          pool_id: z.string(),
          mode: z.enum(['spot', 'ondemand']),
          instance_type: z.string(),
          az: z.string(),
          price: nnum,
          on_demand_price: nnum,
          savings_percent: nnum,
          risk_score: nnum,
          interruptions_30d: count,
          client_interruptions: count,
          hours: z.number(),
          share_of_time: nnum,
          agents_now: count,
        }),
      ),
    }),
  }),
  getFailoverInsights: defineRoute({
    operationId: 'getFailoverInsights',
    method: 'GET',
    path: '/api/client/{cid}/insights/failover',
    group: 'insights',
    auth: 'client',
    summary: 'Failover latency per interruption: notice → command → promotion, p50/p95, time left before reclaim',
    params: cidParams,
    query: windowQuery,
    response: obj({
      window,
      summary: obj({
        interruptions: count,
        recovered: count,
        before_deadline: count,
        notice_to_command: latency,
        command_to_promotion: latency,
        notice_to_promotion: latency,
        time_left_before_reclaim: latency,
      }),
      incidents: z.array(
        obj({
          id: z.string(),
          agent_id: z.string(),
          instance_id: z.string(),
          signal_type: z.string(),
          outcome: z.string(),
          path: z.enum(['replica', 'command', 'none']),
          notice_at: z.string(),
          command_at: nstr,
          promoted_at: nstr,
          deadline: nstr,
          notice_to_command_ms: nnum,
          command_to_promotion_ms: nnum,
          notice_to_promotion_ms: nnum,
          time_left_ms: nnum,
        }),
      ),
    }),
  }),
};

import * as z from 'zod';
import { count, switchSchema, triggerType } from '../shared/http/resource-schemas.js';
import { aliasRoute, defineRoute } from '../shared/http/route.js';
import { cidParams, instanceId, nnum, nullable, obj, pagination, queryInt, rangedQuery, uuid } from '../shared/http/schemas.js';

/** CSV bodies are strings (capped at 50,000 rows); the pipeline sends them as text. */
const csv = z.string();

const getSwitchHistory = defineRoute({
  operationId: 'getSwitchHistory',
  method: 'GET',
  path: '/api/client/{cid}/switch-history',
  group: 'analytics',
  auth: 'client',
  summary: "A client's switches, newest first",
  params: cidParams,
  query: rangedQuery({
    agent_id: uuid.optional(),
    instance_id: instanceId.optional(),
    trigger: triggerType.optional(),
    ...pagination,
  }),
  response: obj({ switches: z.array(switchSchema), total: count, nextToken: nullable(z.string()) }),
});

/** API.md §3.11: 8 routes (one alias), 3 of them CSV exports. */
export const analyticsRoutes = {
  getSavingsSummary: defineRoute({
    operationId: 'getSavingsSummary',
    method: 'GET',
    path: '/api/client/{cid}/savings',
    group: 'analytics',
    auth: 'client',
    summary: 'Savings summary by month',
    params: cidParams,
    query: z.object({ months: queryInt(1, 24, 12) }),
    response: obj({
      total_savings: z.number(),
      monthly_savings: nnum,
      average_savings_percent: nnum,
      savings_by_month: z.array(
        obj({ month: z.string(), savings: z.number(), ondemand_cost: z.number(), actual_cost: z.number() }),
      ),
      as_of: nullable(z.string()),
    }),
  }),
  getSwitchHistory,
  listSwitches: aliasRoute(getSwitchHistory, {
    operationId: 'listSwitches',
    path: '/api/client/{cid}/switches',
  }),
  getDashboardCharts: defineRoute({
    operationId: 'getDashboardCharts',
    method: 'GET',
    path: '/api/client/{cid}/stats/charts',
    group: 'analytics',
    auth: 'client',
    summary: 'Dashboard charts: savings trend, mode distribution, switch frequency',
    params: cidParams,
    query: z.object({ months: queryInt(1, 24, 6), days: queryInt(1, 365, 30) }),
    response: obj({
      savings_trend: z.array(
        obj({ month: z.string(), savings: z.number(), baseline: z.number(), actual: z.number() }),
      ),
      mode_distribution: z.array(obj({ mode: z.string(), count })),
      switch_frequency: z.array(obj({ date: z.string(), switches: count })),
    }),
  }),
  getDowntimeAnalytics: defineRoute({
    operationId: 'getDowntimeAnalytics',
    method: 'GET',
    path: '/api/client/{cid}/analytics/downtime',
    group: 'analytics',
    auth: 'client',
    summary: 'Switch downtime over a window',
    params: cidParams,
    query: z.object({ window_hours: queryInt(1, 2160, 24) }),
    response: obj({
      total_switches: count,
      success_rate: nnum,
      total_downtime_seconds: z.number(),
      average_downtime_seconds: nnum,
      p95_downtime_seconds: nnum,
      max_downtime_seconds: nnum,
      downtime_by_trigger: z.record(z.string(), obj({ total_seconds: z.number(), count })),
      longest_downtime: nullable(obj({ switch_id: z.string(), downtime_seconds: z.number() })),
    }),
  }),
  exportSavingsCsv: defineRoute({
    operationId: 'exportSavingsCsv',
    method: 'GET',
    path: '/api/client/{cid}/export/savings',
    group: 'analytics',
    auth: 'client',
    responseKind: 'csv',
    summary:
      'CSV: date, savings_usd, ondemand_cost_usd, actual_cost_usd, spot_hours, ondemand_hours (≤ 50,000 rows)',
    params: cidParams,
    query: rangedQuery({}),
    response: csv,
  }),
  exportSwitchHistoryCsv: defineRoute({
    operationId: 'exportSwitchHistoryCsv',
    method: 'GET',
    path: '/api/client/{cid}/export/switch-history',
    group: 'analytics',
    auth: 'client',
    responseKind: 'csv',
    summary: 'CSV of the Switch fields (≤ 50,000 rows)',
    params: cidParams,
    query: rangedQuery({ agent_id: uuid.optional() }),
    response: csv,
  }),
  exportGlobalStatsCsv: defineRoute({
    operationId: 'exportGlobalStatsCsv',
    method: 'GET',
    path: '/api/admin/export/global-stats',
    group: 'analytics',
    auth: 'admin',
    responseKind: 'csv',
    summary:
      'CSV, one row per client: client_id, name, status, agents_total, agents_online, instances_active, total_savings_usd, switches_30d',
    response: csv,
  }),
};

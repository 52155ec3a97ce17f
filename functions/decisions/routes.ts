import * as z from 'zod';
import { engineParametersSchema } from '../shared/domain/decision-engine.js';
import { agentStatus, count, poolPriceSchema } from '../shared/http/resource-schemas.js';
import { defineRoute } from '../shared/http/route.js';
import {
  aidParams,
  cidParams,
  instanceId,
  modeInput,
  money,
  nnum,
  nstr,
  nullable,
  obj,
  poolId,
  queryInt,
  uuid,
} from '../shared/http/schemas.js';

/** §3.9 decide: the engine's answer plus the stored decision's id. */
const decisionSchema = obj({
  decision_id: z.string(),
  decision_type: z.enum(['stay_spot', 'stay_ondemand', 'switch_to_spot', 'switch_to_ondemand']),
  recommended_action: z.enum(['stay', 'switch']),
  recommended_mode: z.enum(['spot', 'ondemand']),
  recommended_pool_id: nstr,
  risk_score: z.number(),
  expected_savings_per_hour: z.number(),
  confidence: z.number().min(0).max(1),
  allowed: z.boolean(),
  reason: z.string(),
});

/** Uploads are JSON parameter bundles validated against the engine's own (strict) parameter schema. */
const uploadBody = z.object({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  parameters: engineParametersSchema,
  confidence_threshold: z.number().min(0).max(1).default(0.6),
});

const uploadResponse = (kind: 'model' | 'engine') =>
  obj({
    upload_id: z.string(),
    kind: z.literal(kind),
    status: z.literal('pending'),
    name: z.string(),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    created_at: z.string(),
  });

/** API.md §3.9: 4 agent/client routes and 5 admin upload routes. */
export const decisionsRoutes = {
  decide: defineRoute({
    operationId: 'decide',
    method: 'POST',
    path: '/api/agents/{aid}/decide',
    group: 'decisions',
    auth: 'agent-client',
    summary: 'Run the decision engine and store the decision (kept 30 days); nothing is executed',
    params: aidParams,
    body: z.object({
      instance: z
        .object({
          instance_id: instanceId,
          instance_type: z.string().min(1).max(64),
          region: z.string().min(1).max(32),
          az: z.string().min(1).max(32),
          mode: modeInput,
          pool_id: poolId.nullable(),
        })
        .optional(),
      pricing: z
        .object({
          on_demand_price: money.nullable(),
          current_spot_price: money.nullable(),
          spot_pools: z
            .array(z.object({ pool_id: poolId, az: z.string().min(1).max(32), price: money }))
            .max(100),
        })
        .optional(),
    }),
    response: decisionSchema,
  }),
  getSwitchRecommendation: defineRoute({
    operationId: 'getSwitchRecommendation',
    method: 'GET',
    path: '/api/agents/{aid}/switch-recommendation',
    group: 'decisions',
    auth: 'agent-client',
    summary: 'Current recommendation (same shape as decide) and up to 5 alternative pools',
    params: aidParams,
    response: obj({
      // Not stored, so it may have no decision id.
      recommendation: decisionSchema.extend({ decision_id: nstr }),
      auto_switch_enabled: z.boolean(),
      will_auto_execute: z.boolean(),
      // The current pool as a PoolPrice; null while on on-demand.
      current_pool: nullable(poolPriceSchema),
      alternative_pools: z.array(poolPriceSchema).max(5),
    }),
  }),
  getAgentStatistics: defineRoute({
    operationId: 'getAgentStatistics',
    method: 'GET',
    path: '/api/agents/{aid}/statistics',
    group: 'decisions',
    auth: 'agent-client',
    summary: 'Decision and switch statistics of an agent over `days`',
    params: aidParams,
    query: z.object({ days: queryInt(1, 365, 30) }),
    response: obj({
      total_decisions: count,
      switches_executed: count,
      success_rate: nnum,
      average_confidence: nnum,
      last_decision_at: nstr,
      avg_downtime_seconds: nnum,
      total_savings_generated: z.number(),
    }),
  }),
  listClientAgentDecisions: defineRoute({
    operationId: 'listClientAgentDecisions',
    method: 'GET',
    path: '/api/client/{cid}/agents/decisions',
    group: 'decisions',
    auth: 'client',
    summary: "Recent decisions of each of a client's agents",
    params: cidParams,
    query: z.object({ history: queryInt(1, 100, 10) }),
    response: obj({
      agents: z.array(
        obj({
          agent_id: z.string(),
          status: agentStatus,
          is_healthy: z.boolean(),
          last_heartbeat_seconds_ago: nnum,
          decision_history: z.array(
            obj({
              decision_type: z.string(),
              risk_score: nnum,
              expected_savings: nnum,
              confidence: nnum,
              time: z.string(),
            }),
          ),
        }),
      ),
    }),
  }),
  uploadMlModel: defineRoute({
    operationId: 'uploadMlModel',
    method: 'POST',
    path: '/api/admin/ml-models/upload',
    group: 'decisions',
    auth: 'admin',
    status: 201,
    summary: 'Upload a model parameter bundle (JSON, no code); it starts pending',
    body: uploadBody,
    response: uploadResponse('model'),
  }),
  uploadDecisionEngine: defineRoute({
    operationId: 'uploadDecisionEngine',
    method: 'POST',
    path: '/api/admin/decision-engine/upload',
    group: 'decisions',
    auth: 'admin',
    status: 201,
    summary: 'Upload a decision-engine parameter bundle (JSON, no code); it starts pending',
    body: uploadBody,
    response: uploadResponse('engine'),
  }),
  activateMlModel: defineRoute({
    operationId: 'activateMlModel',
    method: 'POST',
    path: '/api/admin/ml-models/activate',
    group: 'decisions',
    auth: 'admin',
    summary: 'Activate an upload; the one it replaces becomes the fallback',
    body: z.object({ upload_id: uuid }),
    response: obj({
      upload_id: z.string(),
      status: z.literal('active'),
      activated_at: z.string(),
      fallback_upload_id: nstr,
    }),
  }),
  fallbackMlModel: defineRoute({
    operationId: 'fallbackMlModel',
    method: 'POST',
    path: '/api/admin/ml-models/fallback',
    group: 'decisions',
    auth: 'admin',
    summary: 'Re-activate the fallback upload (422 NO_FALLBACK when there is none)',
    response: obj({ upload_id: z.string(), replaced_upload_id: nstr, activated_at: z.string() }),
  }),
  listMlModelSessions: defineRoute({
    operationId: 'listMlModelSessions',
    method: 'GET',
    path: '/api/admin/ml-models/sessions',
    group: 'decisions',
    auth: 'admin',
    summary: 'Model and engine uploads',
    query: z.object({ kind: z.enum(['model', 'engine']).optional() }),
    response: obj({
      uploads: z.array(
        obj({
          upload_id: z.string(),
          kind: z.enum(['model', 'engine']),
          status: z.enum(['pending', 'active', 'fallback', 'superseded', 'failed']),
          files: z.unknown(),
          created_at: z.string(),
          activated_at: nstr,
        }),
      ),
    }),
  }),
};

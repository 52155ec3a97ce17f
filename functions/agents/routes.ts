import * as z from 'zod';
import {
  agentConfigSchema,
  agentSchema,
  agentStatus,
  count,
  instanceRole,
  optionalNextToken,
} from '../shared/http/resource-schemas.js';
import { aliasRoute, defineRoute } from '../shared/http/route.js';
import {
  aidParams,
  cidParams,
  instanceId,
  isoTimestamp,
  modeInput,
  obj,
  pagination,
  version,
  wireSuccess,
} from '../shared/http/schemas.js';

// Wire routes accept null for optional fields: the v4 agent sends `None` (e.g. no public IP).
const registerBody = z.object({
  client_token: z.string().min(1).max(512).nullish(),
  logical_agent_id: z.string().trim().min(1).max(256),
  instance_id: instanceId,
  instance_type: z.string().min(1).max(64),
  region: z.string().min(1).max(32),
  az: z.string().min(1).max(32),
  hostname: z.string().max(255).nullish(),
  ami_id: z.string().max(64).nullish(),
  agent_version: z.string().max(32).nullish(),
  mode: modeInput.nullish(),
  private_ip: z.string().max(64).nullish(),
  public_ip: z.string().max(64).nullish(),
});

const heartbeatBody = z.object({
  status: z.enum(['online', 'disabled', 'offline', 'switching', 'error']),
  // Informational and untyped in API.md: the agent's list of instance ids, a count or a string.
  monitored_instances: z
    .union([z.array(z.string().max(64)).max(1000), z.number().int().nonnegative(), z.string().max(4000)])
    .nullish(),
  instance_id: instanceId.nullish(),
  instance_type: z.string().max(64).nullish(),
  mode: modeInput.nullish(),
  az: z.string().max(32).nullish(),
});

/** The writable §4.5 fields in canonical form: what the config service receives. */
export interface AgentConfigPatch {
  enabled?: boolean;
  auto_switch_enabled?: boolean;
  auto_terminate_enabled?: boolean;
  terminate_wait_seconds?: number;
  manual_replica_enabled?: boolean;
  min_savings_percent?: number;
  risk_threshold?: number;
  max_switches_per_week?: number;
  max_switches_per_day?: number;
  min_pool_duration_hours?: number;
  rebalance_policy?: 'ignore' | 'monitor' | 'prewarm' | 'switch' | null;
  version?: number;
}

const waitSeconds = z.number().int().min(0).max(3600);

/**
 * Config update: canonical keys plus the legacy/camelCase spellings (API.md §3.4), folded into
 * the canonical keys (a canonical key wins over its alias). `replica_enabled` is the legacy mirror of
 * `manual_replica_enabled`; `terminateWaitMinutes` is converted to seconds.
 */
const agentConfigUpdateBody = z
  .object({
    enabled: z.boolean().optional(),
    auto_switch_enabled: z.boolean().optional(),
    auto_terminate_enabled: z.boolean().optional(),
    terminate_wait_seconds: waitSeconds.optional(),
    manual_replica_enabled: z.boolean().optional(),
    replica_enabled: z.boolean().optional(),
    min_savings_percent: z.number().min(0).max(100).optional(),
    risk_threshold: z.number().min(0).max(1).optional(),
    max_switches_per_week: z.number().int().min(0).max(1000).optional(),
    max_switches_per_day: z.number().int().min(0).max(1000).optional(),
    min_pool_duration_hours: z.number().min(0).max(8760).optional(),
    // Not in API.md's table but part of the stored config (types.ts); accepted so it can be set.
    rebalance_policy: z.enum(['ignore', 'monitor', 'prewarm', 'switch']).nullable().optional(),
    autoSwitchEnabled: z.boolean().optional(),
    manualReplicaEnabled: z.boolean().optional(),
    autoTerminateEnabled: z.boolean().optional(),
    terminateWaitMinutes: z.number().min(0).max(60).optional(),
    version: version.optional(),
  })
  .transform((b): AgentConfigPatch => {
    const patch: AgentConfigPatch = {
      enabled: b.enabled,
      auto_switch_enabled: b.auto_switch_enabled ?? b.autoSwitchEnabled,
      auto_terminate_enabled: b.auto_terminate_enabled ?? b.autoTerminateEnabled,
      terminate_wait_seconds:
        b.terminate_wait_seconds ??
        (b.terminateWaitMinutes === undefined ? undefined : Math.round(b.terminateWaitMinutes * 60)),
      manual_replica_enabled: b.manual_replica_enabled ?? b.manualReplicaEnabled ?? b.replica_enabled,
      min_savings_percent: b.min_savings_percent,
      risk_threshold: b.risk_threshold,
      max_switches_per_week: b.max_switches_per_week,
      max_switches_per_day: b.max_switches_per_day,
      min_pool_duration_hours: b.min_pool_duration_hours,
      rebalance_policy: b.rebalance_policy,
      version: b.version,
    };
    // Absent keys stay absent, so the service can tell "not sent" from a value.
    for (const key of Object.keys(patch) as (keyof AgentConfigPatch)[]) {
      if (patch[key] === undefined) delete patch[key];
    }
    return patch;
  })
  .refine((c) => !(c.auto_switch_enabled === true && c.manual_replica_enabled === true), {
    path: ['manual_replica_enabled'],
    message: 'auto_switch_enabled and manual_replica_enabled are mutually exclusive',
  });

const configUpdateResponse = obj({
  agent_id: z.string(),
  config: agentConfigSchema,
  version: z.number().int(),
  side_effects: obj({
    replicas_terminated: count,
    replica_requested: z.boolean(),
    commands_cancelled: count,
  }),
});

const updateAgentConfig = defineRoute({
  operationId: 'updateAgentConfig',
  method: 'POST',
  path: '/api/client/agents/{aid}/config',
  group: 'agents',
  auth: 'client',
  summary:
    'Update the agent configuration; §4.4 side effects run in the same transaction. Both exclusive modes on → 400',
  params: aidParams,
  body: agentConfigUpdateBody,
  response: configUpdateResponse,
});

/** API.md §3.4: 11 routes (register … delete), one of them an alias. */
export const agentsRoutes = {
  registerAgent: defineRoute({
    operationId: 'registerAgent',
    method: 'POST',
    path: '/api/agents/register',
    group: 'agents',
    auth: 'agent-client',
    status: 201,
    wire: true,
    bodyToken: true,
    summary: 'Register an agent instance: 201 for a new agent, 200 when an existing agent is reused (§4.3)',
    body: registerBody,
    response: obj({
      agent_id: z.string(),
      client_id: z.string(),
      logical_agent_id: z.string(),
      created: z.boolean(),
      instance_role: instanceRole,
      config: agentConfigSchema,
      message: z.string().nullable(),
    }),
  }),
  heartbeat: defineRoute({
    operationId: 'heartbeat',
    method: 'POST',
    path: '/api/agents/{aid}/heartbeat',
    group: 'agents',
    auth: 'agent-client',
    wire: true,
    summary: 'Agent heartbeat (every 30 s; `status: offline` at shutdown)',
    params: aidParams,
    body: heartbeatBody,
    response: obj({
      ...wireSuccess,
      agent_id: z.string(),
      status: agentStatus,
      config_version: z.number().int(),
      server_time: z.string(),
    }),
  }),
  getAgent: defineRoute({
    operationId: 'getAgent',
    method: 'GET',
    path: '/api/agents/{aid}',
    group: 'agents',
    auth: 'agent-client',
    wire: true,
    summary: 'Get an agent; 404 means deleted or unknown, and the agent then uninstalls itself',
    params: aidParams,
    response: agentSchema,
  }),
  getAgentConfig: defineRoute({
    operationId: 'getAgentConfig',
    method: 'GET',
    path: '/api/agents/{aid}/config',
    group: 'agents',
    auth: 'agent-client',
    wire: true,
    summary: 'Agent configuration (§4.5 fields at top level; polled every 60 s)',
    params: aidParams,
    response: agentConfigSchema,
  }),
  announceTermination: defineRoute({
    operationId: 'announceTermination',
    method: 'POST',
    path: '/api/agents/{aid}/termination',
    group: 'agents',
    auth: 'agent-client',
    summary:
      'The agent announces it is leaving (sets it offline; a PRIMARY is treated like an EC2 termination)',
    params: aidParams,
    body: z.object({
      reason: z.string().max(1000).optional(),
      instance_id: instanceId.optional(),
      terminated_at: isoTimestamp.optional(),
    }),
    response: obj({ ...wireSuccess, agent_id: z.string(), status: agentStatus }),
  }),
  listClientAgents: defineRoute({
    operationId: 'listClientAgents',
    method: 'GET',
    path: '/api/client/{cid}/agents',
    group: 'agents',
    auth: 'client',
    summary: "A client's live agents (deleted agents excluded)",
    params: cidParams,
    query: z.object({ status: agentStatus.exclude(['deleted']).optional(), ...pagination }),
    response: obj({ agents: z.array(agentSchema), nextToken: optionalNextToken }),
  }),
  listClientAgentHistory: defineRoute({
    operationId: 'listClientAgentHistory',
    method: 'GET',
    path: '/api/client/{cid}/agents/history',
    group: 'agents',
    auth: 'client',
    summary: "A client's agents including deleted ones, newest first",
    params: cidParams,
    query: z.object({ ...pagination }),
    response: obj({ agents: z.array(agentSchema), nextToken: optionalNextToken }),
  }),
  toggleAgentEnabled: defineRoute({
    operationId: 'toggleAgentEnabled',
    method: 'POST',
    path: '/api/client/agents/{aid}/toggle-enabled',
    group: 'agents',
    auth: 'client',
    summary: 'Enable or disable an agent (disabling cancels pending commands)',
    params: aidParams,
    body: z.object({ enabled: z.boolean(), version: version.optional() }),
    response: obj({ agent_id: z.string(), config: agentConfigSchema, version: z.number().int() }),
  }),
  updateAgentConfig,
  updateAgentSettings: aliasRoute(updateAgentConfig, {
    operationId: 'updateAgentSettings',
    path: '/api/client/agents/{aid}/settings',
  }),
  deleteAgent: defineRoute({
    operationId: 'deleteAgent',
    method: 'DELETE',
    path: '/api/client/agents/{aid}',
    group: 'agents',
    auth: 'client',
    summary: 'Delete an agent: cancels its commands, marks its replicas terminated (EC2 untouched)',
    params: aidParams,
    response: obj({
      agent_id: z.string(),
      status: z.literal('deleted'),
      replicas_terminated: count,
      commands_cancelled: count,
    }),
  }),
};

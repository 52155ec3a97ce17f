import * as z from 'zod';
import { commandSchema, commandStatus, pendingCommandSchema } from '../shared/http/resource-schemas.js';
import { defineRoute } from '../shared/http/route.js';
import {
  aidParams,
  iidParams,
  mode,
  obj,
  poolId,
  uuid,
  version,
  wireSuccess,
} from '../shared/http/schemas.js';

/** API.md §3.5: 4 routes. */
export const commandsRoutes = {
  getPendingCommands: defineRoute({
    operationId: 'getPendingCommands',
    method: 'GET',
    path: '/api/agents/{aid}/pending-commands',
    group: 'commands',
    auth: 'agent-client',
    wire: true,
    summary:
      'Pending commands as a bare array (≤ 20, priority desc then oldest); only the first is acknowledged. Polled every 15 s',
    params: aidParams,
    response: z.array(pendingCommandSchema).max(20),
  }),
  reportCommandExecuted: defineRoute({
    operationId: 'reportCommandExecuted',
    method: 'POST',
    path: '/api/agents/{aid}/commands/{cmd}/executed',
    group: 'commands',
    auth: 'agent-client',
    wire: true,
    summary: 'Report a command result (completed or failed); repeating it is 200, changing it is 409',
    params: z.object({ aid: uuid, cmd: uuid }),
    body: z.object({
      success: z.boolean(),
      message: z.string().max(4000).nullish(),
      execution_result: z.unknown().optional(),
    }),
    response: obj({ ...wireSuccess, command_id: z.string(), status: commandStatus }),
  }),
  issueSwitchCommand: defineRoute({
    operationId: 'issueSwitchCommand',
    method: 'POST',
    path: '/api/agents/{aid}/issue-switch-command',
    group: 'commands',
    auth: 'agent-client',
    status: 202,
    summary: 'Queue an automated switch (priority 10–50, default 25)',
    params: aidParams,
    body: z
      .object({
        target_mode: mode,
        target_pool_id: poolId.optional(),
        priority: z.number().int().min(10).max(50).default(25),
        reason: z.string().max(1000).optional(),
      })
      .refine((b) => b.target_mode !== 'spot' || b.target_pool_id !== undefined, {
        path: ['target_pool_id'],
        message: 'required when target_mode is spot',
      }),
    response: commandSchema,
  }),
  forceSwitch: defineRoute({
    operationId: 'forceSwitch',
    method: 'POST',
    path: '/api/client/instances/{iid}/force-switch',
    group: 'commands',
    auth: 'client',
    status: 202,
    summary: 'Manual switch of a PRIMARY (priority 75, trigger manual, allowed in any mode)',
    params: iidParams,
    body: z
      .object({
        target: z.enum(['ondemand', 'spot', 'pool']),
        pool_id: poolId.optional(),
        new_instance_type: z.string().min(1).max(64).optional(),
        terminate_wait_seconds: z.number().int().min(0).max(3600).optional(),
        reason: z.string().max(1000).optional(),
        version: version.optional(),
      })
      .refine((b) => b.target !== 'pool' || b.pool_id !== undefined, {
        path: ['pool_id'],
        message: 'required when target is pool',
      }),
    response: commandSchema,
  }),
};

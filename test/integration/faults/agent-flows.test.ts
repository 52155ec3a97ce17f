/**
 * Failure matrix (test/support/fault-matrix.ts) of the v4 agent's multi-call flows: registration
 * (new agent, new PRIMARY of a known agent), the heartbeat that brings an agent back online,
 * command delivery (pending-commands) and completion (executed), and the switch-report. The agent
 * retries with the same body on its next period.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { handler as commandExpiry } from '../../../functions/jobs/command-expiry/handler.js';
import { agentsRepo } from '../../../functions/shared/db/agents-repo.js';
import { commandsRepo } from '../../../functions/shared/db/commands-repo.js';
import type { Command } from '../../../functions/shared/domain/types.js';
import { clock, faultMatrix, type Flow, violations } from '../../support/fault-matrix.js';
import {
  type Agent,
  agentOf,
  must,
  registerBody,
  request,
  scheduledRun,
  switchReportBody,
  tenant,
  type Tenant,
  withDeliveredSwitch,
  withQueuedSwitch,
  withSwitchDone,
} from '../../support/fault-worlds.js';
import { randomInstanceId } from '../../support/factories.js';

const AGENT_RETRY_MS = 35_000;

const register: Flow<Tenant & { logicalId: string; instanceId: string }> = {
  name: 'registration',
  setup: async () => ({ ...(await tenant()), logicalId: `logical-${randomUUID()}`, instanceId: randomInstanceId() }),
  attempt: (w) => request('agents', 'POST', '/api/agents/register', { token: w.token, body: registerBody(w.logicalId, w.instanceId, 'm5.large') }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
  async check(_w, answers) {
    // Every answer names the same agent.
    const ids = new Set(answers.filter((a) => a.done).map((a) => (a.body as { agent_id: string }).agent_id));
    expect(ids.size).toBe(1);
  },
};

const reRegister: Flow<Agent & { newInstanceId: string }> = {
  name: 'registration of a new PRIMARY',
  setup: async () => ({ ...(await agentOf(await tenant())), newInstanceId: randomInstanceId() }),
  attempt: (w) => request('agents', 'POST', '/api/agents/register', { token: w.token, body: registerBody(w.logicalId, w.newInstanceId, 'm5.large') }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
};

const heartbeat: Flow<Agent> = {
  name: 'heartbeat back online',
  async setup() {
    const a = await agentOf(await tenant());
    await must(request('agents', 'POST', `/api/agents/${a.agentId}/heartbeat`, { token: a.token, body: { status: 'offline', instance_id: a.instanceId } }), 'offline');
    return a;
  },
  attempt: (w) =>
    request('agents', 'POST', `/api/agents/${w.agentId}/heartbeat`, {
      token: w.token,
      body: { status: 'online', instance_id: w.instanceId, instance_type: w.instanceType, mode: 'spot', az: 'us-east-1a' },
    }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
};

const delivery: Flow<Agent & { commandId: string }> = {
  name: 'command delivery (pending-commands)',
  setup: withQueuedSwitch,
  attempt: (w) => request('commands', 'GET', `/api/agents/${w.agentId}/pending-commands`, { token: w.token }),
  retryAfterMs: 15_000,
  clients: (w) => [w.clientId],
  async check(w, answers, fault) {
    // No lost command: the agent received it in an answer it got (a timeout is read back) ...
    const received = answers.filter((a) => a.done).flatMap((a) => (a.body as { id: string }[]).slice(0, 1).map((c) => c.id));
    if (received.includes(w.commandId)) return;
    // ... unless the process died between the delivery's commit and its answer: the wire contract
    // forbids offering a command in flight again (API.md §3.5), so it stays in flight until its
    // delivered lifetime ends — and then the expiry job frees the agent: nothing is stuck.
    expect(fault?.mode).toBe('crash');
    const command = (await commandsRepo.get(w.agentId, w.commandId)) as Command;
    expect(command.status).toBe('acknowledged');
    clock.advance(Date.parse(command.expires_at) - Date.now() + 60_000);
    expect((await scheduledRun(commandExpiry, 'command-expiry')).done).toBe(true);
    expect((await commandsRepo.get(w.agentId, w.commandId))?.status).toBe('expired');
    const agent = await agentsRepo.get(w.agentId);
    expect([agent?.status, agent?.inflight_command_id ?? null]).toEqual(['online', null]);
    expect(await violations()).toEqual([]);
  },
};

const completion: Flow<Agent & { commandId: string }> = {
  name: 'command completion (executed)',
  setup: withDeliveredSwitch,
  attempt: (w) => request('commands', 'POST', `/api/agents/${w.agentId}/commands/${w.commandId}/executed`, { token: w.token, body: { success: true, message: 'done' } }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
};

const switchReport: Flow<Agent & { commandId: string; newInstanceId: string; at: string }> = {
  name: 'switch-report',
  setup: async () => ({ ...(await withDeliveredSwitch()), newInstanceId: randomInstanceId(), at: new Date().toISOString() }),
  attempt: (w) =>
    request('reporting', 'POST', `/api/agents/${w.agentId}/switch-report`, { token: w.token, body: switchReportBody(w, w.newInstanceId, w.commandId, w.at) }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
  async check(_w, answers) {
    const ids = new Set(answers.filter((a) => a.done).map((a) => (a.body as { switch_id: string }).switch_id));
    expect(ids.size).toBe(1);
  },
};

/** After a switch its old PRIMARY is a ZOMBIE; the agent terminates it and reports. */
const terminationReport: Flow<Agent & { zombieId: string }> = {
  name: 'termination-report of a zombie',
  async setup() {
    const a = await withSwitchDone();
    return { ...a, zombieId: a.instanceId };
  },
  attempt: (w) => request('reporting', 'POST', `/api/agents/${w.agentId}/termination-report`, { token: w.token, body: { instance_id: w.zombieId, success: true } }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
};

/** The agent announces that its PRIMARY is going away (handled like EC2's termination: no replica → error). */
const announcement: Flow<Agent> = {
  name: 'termination announcement of the PRIMARY',
  setup: async () => agentOf(await tenant()),
  attempt: (w) =>
    request('agents', 'POST', `/api/agents/${w.agentId}/termination`, { token: w.token, body: { reason: 'shutdown', instance_id: w.instanceId } }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
};

await faultMatrix([register, reRegister, heartbeat, delivery, completion, switchReport, terminationReport, announcement] as Flow<never>[]);

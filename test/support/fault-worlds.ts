/**
 * Worlds and callers for the failure matrix (fault-matrix.ts): clients and agents built through the
 * real routes, and each real caller's attempt — a request through its group's Lambda handler, an
 * EventBridge delivery through the ec2-events handler, a scheduled run through the job's handler.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { createLambdaContext } from '../../bin/support/local-gateway.js';
import { handler as ec2EventsHandler } from '../../functions/ec2-events/handler.js';
import type { GroupName } from '../../functions/shared/http/route.js';
import type { Attempt } from './fault-matrix.js';
import { TEST_ADMIN_TOKEN } from './constants.js';
import { createClientInProcess, randomInstanceId } from './factories.js';
import { invoke } from './http.js';

export interface Tenant {
  clientId: string;
  token: string;
}

export interface Agent extends Tenant {
  agentId: string;
  instanceId: string;
  logicalId: string;
  instanceType: string;
}

/** A request as the caller sends it; done on a 2xx (the caller stops retrying). */
export async function request(
  group: GroupName,
  method: string,
  path: string,
  options: { token: string; body?: unknown; headers?: Record<string, string>; query?: Record<string, string> },
): Promise<Attempt> {
  const res = await invoke(group, method, path, options);
  return { done: res.status >= 200 && res.status < 300, status: res.status, headers: res.headers, body: res.json };
}

/** Fails the setup loudly when a building request did not succeed. */
export async function must(attempt: Promise<Attempt>, what: string): Promise<Attempt> {
  const a = await attempt;
  if (!a.done) throw new Error(`${what} failed: ${a.status} ${JSON.stringify(a.body)}`);
  return a;
}

export async function tenant(o: { maxAgents?: number } = {}): Promise<Tenant> {
  const { client, token } = await createClientInProcess({ max_agents: o.maxAgents ?? 10 });
  return { clientId: client.id, token };
}

export const registerBody = (logicalId: string, instanceId: string, instanceType: string, az = 'us-east-1a') => ({
  logical_agent_id: logicalId,
  instance_id: instanceId,
  instance_type: instanceType,
  region: 'us-east-1',
  az,
  hostname: `host-${logicalId.slice(0, 8)}`,
  agent_version: '4.0.0',
  mode: 'spot',
});

/** A registered spot agent of `t` (its own instance type, so its pools are its own). */
export async function agentOf(t: Tenant, o: { config?: Record<string, unknown>; instanceType?: string } = {}): Promise<Agent> {
  const logicalId = `logical-${randomUUID()}`;
  const instanceId = randomInstanceId();
  const instanceType = o.instanceType ?? 'm5.large';
  const reg = await must(request('agents', 'POST', '/api/agents/register', { token: t.token, body: registerBody(logicalId, instanceId, instanceType) }), 'register');
  const agentId = (reg.body as { agent_id: string }).agent_id;
  if (o.config) await must(request('agents', 'POST', `/api/client/agents/${agentId}/config`, { token: t.token, body: o.config }), 'config');
  return { ...t, agentId, instanceId, logicalId, instanceType };
}

export const adminToken = TEST_ADMIN_TOKEN;

const side = (instanceId: string, instanceType: string, mode: string, az: string) => ({
  instance_id: instanceId,
  instance_type: instanceType,
  region: 'us-east-1',
  az,
  ami_id: null,
  mode,
  pool_id: mode === 'spot' ? `${instanceType}.${az}` : null,
});

/** The v4 agent's switch-report after moving its spot PRIMARY to a new on-demand instance (API.md §3.10). */
export const switchReportBody = (a: Agent, newInstanceId: string, commandId: string, at: string) => ({
  old_instance: side(a.instanceId, a.instanceType, 'spot', 'us-east-1a'),
  new_instance: side(newInstanceId, a.instanceType, 'ondemand', 'us-east-1a'),
  snapshot: { used: false },
  prices: { on_demand: 0.096, old_spot: 0.035, new_spot: null },
  timing: {
    switch_initiated_at: at,
    new_instance_launched_at: at,
    new_instance_ready_at: at,
    traffic_switched_at: at,
    old_instance_terminated_at: null,
  },
  trigger: 'manual',
  command_id: commandId,
});

/** An agent with a manual switch to on-demand queued (force-switch). */
export async function withQueuedSwitch(t?: Tenant): Promise<Agent & { commandId: string }> {
  const a = await agentOf(t ?? (await tenant()));
  const queued = await must(request('commands', 'POST', `/api/client/instances/${a.instanceId}/force-switch`, { token: a.token, body: { target: 'ondemand' } }), 'force-switch');
  return { ...a, commandId: (queued.body as { id: string }).id };
}

/** The same, delivered to the agent (pending-commands). */
export async function withDeliveredSwitch(t?: Tenant): Promise<Agent & { commandId: string }> {
  const a = await withQueuedSwitch(t);
  await must(request('commands', 'GET', `/api/agents/${a.agentId}/pending-commands`, { token: a.token }), 'delivery');
  return a;
}

/** One EventBridge delivery to the ec2-events Lambda: done unless it threw (then EventBridge retries). */
export async function deliver(event: unknown): Promise<Attempt> {
  try {
    const summary = await ec2EventsHandler(event, createLambdaContext('spot-optimizer-ec2-events') as Context);
    return { done: true, body: summary };
  } catch (error) {
    return { done: false, error };
  }
}

type JobHandler = (event: unknown, context: Context) => Promise<unknown>;

/** One scheduled run of a job's Lambda (an EventBridge "Scheduled Event" at the current time). */
export async function scheduledRun(handler: JobHandler, name: string): Promise<Attempt> {
  const event = { 'detail-type': 'Scheduled Event', 'source': 'aws.events', 'time': new Date().toISOString(), 'id': randomUUID(), 'detail': {} };
  try {
    const outcome = (await handler(event, createLambdaContext(`spot-optimizer-${name}`) as Context)) as { status: string };
    // A run that found the lease held did nothing: the next schedule runs it.
    return { done: outcome.status === 'ok', body: outcome };
  } catch (error) {
    return { done: false, error };
  }
}

/** The same, executed: the agent reported the switch; its old PRIMARY (`instanceId`) is a ZOMBIE. */
export async function withSwitchDone(t?: Tenant): Promise<Agent & { commandId: string }> {
  const a = await withDeliveredSwitch(t);
  await must(
    request('reporting', 'POST', `/api/agents/${a.agentId}/switch-report`, {
      token: a.token,
      body: switchReportBody(a, randomInstanceId(), a.commandId, new Date().toISOString()),
    }),
    'switch-report',
  );
  return a;
}

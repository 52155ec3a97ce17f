import { randomUUID } from 'node:crypto';
import { invoke } from './http.js';
import { randomInstanceId } from './factories.js';

export interface RegisteredAgent {
  agentId: string;
  instanceId: string;
  logicalId: string;
  token: string;
}

/** Registers an agent in-process with a fresh instance (and, unless given, a fresh logical id). */
export async function registerAgentInProcess(
  token: string,
  overrides: Partial<{
    logical_agent_id: string;
    instance_id: string;
    instance_type: string;
    az: string;
    mode: string;
    agent_version: string;
  }> = {},
): Promise<RegisteredAgent & { status: number; body: Record<string, unknown> }> {
  const body = {
    logical_agent_id: overrides.logical_agent_id ?? `logical-${randomUUID()}`,
    instance_id: overrides.instance_id ?? randomInstanceId(),
    instance_type: overrides.instance_type ?? 't3.medium',
    region: 'us-east-1',
    az: overrides.az ?? 'us-east-1a',
    hostname: `host-${randomUUID().slice(0, 8)}`,
    agent_version: overrides.agent_version ?? '4.0.0',
    mode: overrides.mode ?? 'spot',
  };
  const res = await invoke<Record<string, unknown>>('agents', 'POST', '/api/agents/register', { token, body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`register failed: ${res.status} ${res.text}`);
  return {
    agentId: res.json.agent_id as string,
    instanceId: body.instance_id,
    logicalId: body.logical_agent_id,
    token,
    status: res.status,
    body: res.json,
  };
}

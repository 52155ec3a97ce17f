import { describe, expect, it } from 'vitest';
import { rng } from '../../../bin/support/random.js';
import { type AgentRequest, V4Agent, V4_CADENCE_SECONDS } from '../../../bin/support/v4-agent.js';

const T0 = Date.parse('2025-01-15T12:00:00.000Z');

function agent(o: Partial<ConstructorParameters<typeof V4Agent>[0]> = {}) {
  let n = 0;
  return new V4Agent({
    logicalAgentId: 'web-1',
    instanceId: 'i-0000000000000000a',
    instanceType: 'm5.large',
    region: 'us-east-1',
    az: 'us-east-1a',
    otherAzs: ['us-east-1a', 'us-east-1b'],
    random: rng(1),
    jitter: 0.1,
    startAt: T0,
    newInstanceId: () => `i-new${String(++n).padStart(14, '0')}`,
    ...o,
  });
}

/** Runs the agent for `ms` against a fake server: `answer` decides each reply. */
function drive(a: V4Agent, ms: number, answer: (r: AgentRequest, now: number) => [number, unknown] = () => [200, {}]) {
  const sent: { at: number; r: AgentRequest }[] = [];
  for (let now = T0; now <= T0 + ms;) {
    for (const r of a.due(now)) {
      sent.push({ at: now, r });
      const [status, body] = r.task === 'register' ? [201, { agent_id: 'agent-1' }] : answer(r, now);
      a.complete(r, status, body, now);
    }
    const next = a.nextDueAt();
    if (!Number.isFinite(next)) break;
    now = Math.max(now + 1, next);
  }
  return sent;
}

describe('the simulated v4 agent', () => {
  it('registers first, then keeps the fixed cadence of every periodic call (±10 % jitter)', () => {
    const a = agent();
    const sent = drive(a, 3_600_000);
    expect(sent[0]?.r).toMatchObject({ task: 'register', method: 'POST', path: '/api/agents/register' });
    expect(sent[0]?.r.body).toMatchObject({ logical_agent_id: 'web-1', instance_id: 'i-0000000000000000a', agent_version: '4.0.0', mode: 'spot' });
    const count = (task: string) => sent.filter((s) => s.r.task === task).length;
    for (const [task, seconds] of Object.entries(V4_CADENCE_SECONDS)) {
      const expected = 3600 / seconds;
      expect(count(task), task).toBeGreaterThanOrEqual(Math.floor(expected * 0.88));
      expect(count(task), task).toBeLessThanOrEqual(Math.ceil(expected * 1.12) + 1);
    }
    const hb = sent.find((s) => s.r.task === 'heartbeat')?.r;
    expect(hb).toMatchObject({ method: 'POST', path: '/api/agents/agent-1/heartbeat', body: { status: 'online', instance_id: 'i-0000000000000000a', az: 'us-east-1a' } });
    expect(sent.filter((s) => s.r.task === 'replicasLaunching')[0]?.r.query).toEqual({ status: 'launching' });
    const report = sent.find((s) => s.r.task === 'pricingReport')?.r.body as { pricing: { spot_pools: { pool_id: string; price: number }[] } };
    // Its own pool is the cheapest: no reason for the engine to move it.
    expect(report.pricing.spot_pools.map((p) => p.pool_id)).toEqual(['m5.large.us-east-1a', 'm5.large.us-east-1b']);
    expect(report.pricing.spot_pools[0]?.price).toBeLessThan(report.pricing.spot_pools[1]?.price ?? 0);
  });

  it('retries registration after a failure, and sends nothing else until registered', () => {
    const a = agent();
    const [first] = a.due(T0);
    a.complete(first as AgentRequest, 503, {}, T0);
    expect(a.registered).toBe(false);
    expect(a.due(T0 + 10_000)).toEqual([]);
    expect(a.due(T0 + 30_000).map((r) => r.task)).toEqual(['register']);
  });

  it('executes a delivered switch: switch-report with a new instance id, then executed; then runs on the new instance', () => {
    const a = agent({ switchDurationMs: 120_000 });
    let delivered = false;
    const sent = drive(a, 600_000, (r) => {
      if (r.task === 'pendingCommands' && !delivered) {
        delivered = true;
        return [200, [{ id: 'cmd-1', command_type: 'switch', target_mode: 'spot', target_pool_id: 'm5.large.us-east-1b', trigger_type: 'manual', priority: 75 }]];
      }
      return [200, r.task === 'pendingCommands' ? [] : {}];
    });
    const report = sent.find((s) => s.r.task === 'switchReport');
    const executed = sent.find((s) => s.r.task === 'executed');
    const delivery = sent.find((s) => s.r.task === 'pendingCommands');
    expect(report && delivery && report.at - delivery.at).toBe(120_000);
    expect(report?.r.body).toMatchObject({
      old_instance: { instance_id: 'i-0000000000000000a', az: 'us-east-1a', pool_id: 'm5.large.us-east-1a' },
      new_instance: { instance_id: 'i-new00000000000001', az: 'us-east-1b', mode: 'spot', pool_id: 'm5.large.us-east-1b' },
      command_id: 'cmd-1',
    });
    expect(report?.r.trigger).toBe('manual');
    expect(executed?.r).toMatchObject({ path: '/api/agents/agent-1/commands/cmd-1/executed', body: { success: true } });
    expect(a.executed).toEqual(['cmd-1']);
    expect(a.instanceId).toBe('i-new00000000000001');
    expect(a.az).toBe('us-east-1b');
    const lastHeartbeat = sent.filter((s) => s.r.task === 'heartbeat').at(-1)?.r.body;
    expect(lastHeartbeat).toMatchObject({ instance_id: 'i-new00000000000001', az: 'us-east-1b' });
  });

  it('terminates listed zombies once, launches placeholders and confirms replica terminations', () => {
    const a = agent({ replicaLaunchMs: 30_000 });
    const sent = drive(a, 300_000, (r) => {
      if (r.task === 'instancesToTerminate') return [200, { instances: [{ instance_id: 'i-zombie' }] }];
      if (r.task === 'replicasLaunching') return [200, { replicas: [{ id: 'rep-1' }] }];
      if (r.task === 'replicasTerminated') return [200, { replicas: [{ id: 'rep-2' }] }];
      return [200, r.task === 'pendingCommands' ? [] : {}];
    });
    const of = (task: string) => sent.filter((s) => s.r.task === task).map((s) => s.r);
    expect(of('terminationReport')).toHaveLength(1);
    expect(of('terminationReport')[0]?.body).toMatchObject({ instance_id: 'i-zombie', success: true });
    expect(of('attachReplica')).toHaveLength(1);
    expect(of('attachReplica')[0]).toMatchObject({ method: 'PUT', path: '/api/agents/agent-1/replicas/rep-1' });
    expect(of('replicaReady')[0]).toMatchObject({ path: '/api/agents/agent-1/replicas/rep-1/status', body: { status: 'ready' } });
    expect(of('confirmReplicaTerminated')).toHaveLength(1);
    expect(of('confirmReplicaTerminated')[0]?.body).toMatchObject({ status: 'terminated', is_active: false });
  });

  it('keeps one request per task in flight: a slow answer does not pile up requests', () => {
    const a = agent();
    const [reg] = a.due(T0);
    a.complete(reg as AgentRequest, 201, { agent_id: 'x' }, T0);
    const first = a.due(T0 + 60_000);
    expect(first.filter((r) => r.task === 'heartbeat')).toHaveLength(1);
    expect(a.due(T0 + 120_000).filter((r) => r.task === 'heartbeat')).toHaveLength(0);
    a.complete(first.find((r) => r.task === 'heartbeat') as AgentRequest, 200, {}, T0 + 120_000);
    expect(a.due(T0 + 125_000).filter((r) => r.task === 'heartbeat')).toHaveLength(1);
  });
});

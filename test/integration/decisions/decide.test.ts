import { beforeAll, describe, expect, it } from 'vitest';
import { decisionsRepo } from '../../../functions/shared/db/decisions-repo.js';
import { TEST_ADMIN_TOKEN } from '../../support/constants.js';
import { createClientInProcess } from '../../support/factories.js';
import { invoke } from '../../support/http.js';
import { type ErrorBody, newTenant, poolOf, seedPool, setInstancePrices, type TestTenant } from '../../support/tenants.js';

interface DecisionBody {
  decision_id: string;
  decision_type: string;
  recommended_action: string;
  recommended_mode: string;
  recommended_pool_id: string | null;
  risk_score: number;
  expected_savings_per_hour: number;
  confidence: number;
  allowed: boolean;
  reason: string;
}

describe('decide / switch-recommendation / statistics', () => {
  let t: TestTenant;
  let other: { token: string; clientId: string };

  beforeAll(async () => {
    t = await newTenant({ mode: 'spot' });
    // Current pool a at 0.06; b is much cheaper and safe; c is cheaper still but too risky; d is stale.
    await seedPool(t.instanceType, 'a', 0.06, { risk: 0.05 });
    await seedPool(t.instanceType, 'b', 0.025, { risk: 0.05 });
    await seedPool(t.instanceType, 'c', 0.015, { risk: 0.9 });
    await seedPool(t.instanceType, 'd', 0.01, { risk: 0.01, pricedAt: new Date(Date.now() - 3 * 3_600_000) });
    await setInstancePrices(t.instanceId, 0.06, 0.1);
    const o = await createClientInProcess();
    other = { token: o.token, clientId: o.client.id };
  });

  it('runs the engine on stored pools and stores the decision (30-day TTL)', async () => {
    const res = await invoke<DecisionBody>('decisions', 'POST', `/api/agents/${t.agentId}/decide`, { token: t.token, body: {} });
    expect(res.status, res.text).toBe(200);
    // Candidates: fresh (≤ 2 h) and risk ≤ 0.3 → b wins; c (risky) and d (stale) are not candidates.
    expect(res.json).toMatchObject({
      decision_type: 'switch_to_spot',
      recommended_action: 'switch',
      recommended_mode: 'spot',
      recommended_pool_id: poolOf(t.instanceType, 'b'),
    });
    expect(res.json.expected_savings_per_hour).toBeCloseTo(0.035, 6);
    // Registered just now: in its pool for less than min_pool_duration_hours → not allowed.
    expect(res.json.allowed).toBe(false);
    const stored = await decisionsRepo.latest(t.agentId, 5);
    expect(stored.map((d) => d.decision_id)).toContain(res.json.decision_id);
    const item = stored.find((d) => d.decision_id === res.json.decision_id) as unknown as Record<string, unknown>;
    expect(item.decision_type).toBe('switch_to_spot');
    expect(item.client_id).toBe(t.clientId);
  });

  it('uses the prices the caller sends over the stored ones', async () => {
    const res = await invoke<DecisionBody>('decisions', 'POST', `/api/agents/${t.agentId}/decide`, {
      token: t.token,
      body: {
        pricing: {
          on_demand_price: 0.1,
          current_spot_price: 0.026,
          spot_pools: [{ pool_id: poolOf(t.instanceType, 'b'), az: 'us-east-1b', price: 0.025 }],
        },
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.json.decision_type).toBe('stay_spot');
    expect(res.json.recommended_action).toBe('stay');
  });

  it('switch-recommendation: same shape, not stored, with the current pool and ≤ 5 fresh alternatives', async () => {
    const before = (await decisionsRepo.latest(t.agentId, 50)).length;
    const res = await invoke<{
      recommendation: DecisionBody;
      auto_switch_enabled: boolean;
      will_auto_execute: boolean;
      current_pool: { pool_id: string; price: number; savings_percent: number } | null;
      alternative_pools: { pool_id: string; price: number }[];
    }>('decisions', 'GET', `/api/agents/${t.agentId}/switch-recommendation`, { token: t.token });
    expect(res.status, res.text).toBe(200);
    expect(res.json.recommendation.decision_id).toBeNull();
    expect(res.json.recommendation.recommended_pool_id).toBe(poolOf(t.instanceType, 'b'));
    expect(res.json.auto_switch_enabled).toBe(true);
    expect(res.json.will_auto_execute).toBe(false); // not allowed yet (min pool duration)
    expect(res.json.current_pool).toMatchObject({ pool_id: poolOf(t.instanceType, 'a'), price: 0.06, savings_percent: 40 });
    expect(res.json.alternative_pools.map((p) => p.pool_id)).toEqual([poolOf(t.instanceType, 'c'), poolOf(t.instanceType, 'b')]);
    expect((await decisionsRepo.latest(t.agentId, 50)).length).toBe(before);
  });

  it('statistics and the client decisions view read the stored decisions', async () => {
    const stats = await invoke<Record<string, unknown>>('decisions', 'GET', `/api/agents/${t.agentId}/statistics`, { token: t.token });
    expect(stats.status, stats.text).toBe(200);
    expect(stats.json.total_decisions).toBe(2);
    expect(stats.json.switches_executed).toBe(0);
    expect(typeof stats.json.average_confidence).toBe('number');
    expect(typeof stats.json.last_decision_at).toBe('string');

    const view = await invoke<{ agents: { agent_id: string; is_healthy: boolean; decision_history: { decision_type: string }[] }[] }>(
      'decisions',
      'GET',
      `/api/client/${t.clientId}/agents/decisions`,
      { token: t.token, query: { history: 1 } },
    );
    expect(view.status, view.text).toBe(200);
    expect(view.json.agents).toHaveLength(1);
    expect(view.json.agents[0]?.agent_id).toBe(t.agentId);
    expect(view.json.agents[0]?.is_healthy).toBe(true);
    expect(view.json.agents[0]?.decision_history).toHaveLength(1);
    expect(view.json.agents[0]?.decision_history[0]?.decision_type).toBe('stay_spot'); // newest first
  });

  it("tenant isolation: another client's agent → 404, another client's {cid} → 403", async () => {
    for (const [method, path] of [
      ['POST', `/api/agents/${t.agentId}/decide`],
      ['GET', `/api/agents/${t.agentId}/switch-recommendation`],
      ['GET', `/api/agents/${t.agentId}/statistics`],
    ] as const) {
      const res = await invoke<ErrorBody>('decisions', method, path, { token: other.token, ...(method === 'POST' ? { body: {} } : {}) });
      expect(res.status, path).toBe(404);
      expect(res.text).not.toContain(t.instanceId);
    }
    const res = await invoke<ErrorBody>('decisions', 'GET', `/api/client/${t.clientId}/agents/decisions`, { token: other.token });
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe('FORBIDDEN');
    // The admin may act for any client.
    const admin = await invoke('decisions', 'GET', `/api/client/${t.clientId}/agents/decisions`, { token: TEST_ADMIN_TOKEN });
    expect(admin.status).toBe(200);
  });
});

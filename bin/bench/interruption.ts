import { randomBytes, randomUUID } from 'node:crypto';
import { percentile, progress, round } from './bench-env.js';

const EVENTS = Number(process.env.BENCH_INTERRUPTIONS ?? 200);
const DUPLICATE_EVENTS = Number(process.env.BENCH_INTERRUPTION_DUPLICATES ?? 50);
const REGION = 'us-east-1';
const INSTANCE_TYPE = 'm5.bench';

const instanceId = () => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;
const warning = (iid: string, id: string = randomUUID()) => ({
  'version': '0',
  id,
  'detail-type': 'EC2 Spot Instance Interruption Warning',
  'source': 'aws.ec2',
  'account': '123456789012',
  'time': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  'region': REGION,
  'resources': [`arn:aws:ec2:${REGION}:123456789012:instance/${iid}`],
  'detail': { 'instance-id': iid, 'instance-action': 'terminate' },
});

const stats = (xs: number[]) => ({ p50: round(percentile(xs, 50)), p99: round(percentile(xs, 99)), max: round(Math.max(...xs)) });
const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length), 1);

/**
 * Interruption event → emergency command visible to the agent (API.md §5). Through the real code:
 * the EventBridge event is POSTed to the local runtime's /local/eventbridge (the ec2-events Lambda
 * handler, middy + Powertools), then the agent polls GET pending-commands through the local API
 * Gateway emulation, all against DynamoDB Local. DynamoDB round trips are counted by a middleware
 * on the one shared DocumentClient (every call the handlers make, nothing guessed).
 *
 * Scenarios: (1) no replica → priority-100 emergency switch, one event per agent, sequential;
 * (2) the same interruption delivered 3× by EventBridge + once by the agent, concurrently;
 * (3) a ready replica → promotion (event → PRIMARY moved).
 */
export async function run(adminToken: string): Promise<Record<string, unknown>> {
  const { startLocalGatewayForBench } = await import('./gateway.js');
  const { addDbHook, ddb, tableName } = await import('../../functions/shared/db/client.js');
  const { keys } = await import('../../functions/shared/db/keys.js');
  const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
  const gateway = await startLocalGatewayForBench();

  let calls = 0;
  const byCommand = new Map<string, number>();
  const removeCounter = addDbHook('bench-interruption-counter', (call, send) => {
    calls++;
    byCommand.set(call.command, (byCommand.get(call.command) ?? 0) + 1);
    return send({ ...call.input });
  });
  const counted = async <T>(fn: () => Promise<T>): Promise<{ value: T; calls: number }> => {
    const before = calls;
    const value = await fn();
    return { value, calls: calls - before };
  };

  const request = async <T>(method: string, path: string, token: string | undefined, body?: unknown): Promise<T> => {
    const res = await fetch(`${gateway.baseUrl}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path} → ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };

  try {
    const created = await request<{ client: { token: string } }>('POST', '/api/admin/clients/create', adminToken, {
      name: `bench-interruption-${randomUUID()}`,
      max_agents: 10_000,
    });
    const token = created.client.token;
    for (const [az, price, risk] of [['us-east-1a', 0.02, 0.2], ['us-east-1b', 0.025, 0.1], ['us-east-1c', 0.03, 0.05]] as const) {
      const poolId = `${INSTANCE_TYPE}.${az}`;
      await ddb.send(
        new PutCommand({
          TableName: tableName(),
          Item: {
            ...keys.pool(poolId),
            ...keys.poolsOfTypeIndex(REGION, INSTANCE_TYPE, poolId),
            ...keys.allPoolsIndex(REGION, poolId),
            entity: 'pool', pool_id: poolId, instance_type: INSTANCE_TYPE, region: REGION, az, price,
            priced_at: new Date().toISOString(), on_demand_price: 0.096, risk_score: risk,
          },
        }),
      );
    }
    const register = async () => {
      const iid = instanceId();
      const reg = await request<{ agent_id: string }>('POST', '/api/agents/register', token, {
        logical_agent_id: `bench-${randomUUID()}`,
        instance_id: iid,
        instance_type: INSTANCE_TYPE,
        region: REGION,
        az: 'us-east-1a',
        mode: 'spot',
        agent_version: '4.0.0',
      });
      return { agentId: reg.agent_id, instanceId: iid };
    };

    // ---- 1. event → emergency command visible, one interruption per agent ------------------------
    progress(`interruption: registering ${EVENTS} agents`);
    const agents = [];
    for (let i = 0; i < EVENTS; i++) agents.push(await register());
    progress(`interruption: ${EVENTS} interruption events → pending-commands`);
    const visibleMs: number[] = [];
    const handlerMs: number[] = [];
    const eventCalls: number[] = [];
    const pollCalls: number[] = [];
    byCommand.clear();
    for (const agent of agents) {
      const started = performance.now();
      const event = await counted(() =>
        request<{ result: { instances: { command_id: string }[] } }>('POST', '/local/eventbridge', adminToken, warning(agent.instanceId)),
      );
      handlerMs.push(performance.now() - started);
      const poll = await counted(() => request<{ id: string; priority: number }[]>('GET', `/api/agents/${agent.agentId}/pending-commands`, token));
      visibleMs.push(performance.now() - started);
      if (poll.value[0]?.id !== event.value.result.instances[0]?.command_id || poll.value[0]?.priority !== 100) {
        throw new Error(`agent ${agent.agentId} did not see the emergency command`);
      }
      eventCalls.push(event.calls);
      pollCalls.push(poll.calls);
    }
    const perEventByCommand = Object.fromEntries(
      [...byCommand.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / EVENTS, 2)]),
    );

    // ---- 2. one interruption, 3 EventBridge deliveries + the agent's notice, concurrently --------
    progress(`interruption: ${DUPLICATE_EVENTS} interruptions × (3 EventBridge + 1 agent) concurrently`);
    const dupAgents = [];
    for (let i = 0; i < DUPLICATE_EVENTS; i++) dupAgents.push(await register());
    const dupMs: number[] = [];
    const dupCalls: number[] = [];
    for (const agent of dupAgents) {
      const event = warning(agent.instanceId);
      const started = performance.now();
      const out = await counted(() =>
        Promise.all([
          request('POST', '/local/eventbridge', adminToken, event),
          request('POST', '/local/eventbridge', adminToken, event),
          request('POST', '/local/eventbridge', adminToken, event),
          request('POST', `/api/agents/${agent.agentId}/termination-imminent`, token, { instance_id: agent.instanceId }),
        ]),
      );
      dupMs.push(performance.now() - started);
      dupCalls.push(out.calls);
      const pending = await request<{ priority: number }[]>('GET', `/api/agents/${agent.agentId}/pending-commands`, token);
      if (pending.length !== 1 || pending[0]?.priority !== 100) throw new Error('duplicates produced more than one command');
    }

    // ---- 3. ready replica → promotion --------------------------------------------------------------
    progress(`interruption: ${DUPLICATE_EVENTS} interruptions with a ready replica → promotion`);
    const promoMs: number[] = [];
    const promoCalls: number[] = [];
    for (let i = 0; i < DUPLICATE_EVENTS; i++) {
      const agent = await register();
      await request('POST', `/api/agents/${agent.agentId}/create-emergency-replica`, token, {
        instance_id: instanceId(),
        parent_instance_id: agent.instanceId,
        pool_id: `${INSTANCE_TYPE}.us-east-1c`,
        status: 'ready',
      });
      const started = performance.now();
      const out = await counted(() =>
        request<{ result: { instances: { outcome: string }[] } }>('POST', '/local/eventbridge', adminToken, warning(agent.instanceId)),
      );
      promoMs.push(performance.now() - started);
      promoCalls.push(out.calls);
      if (out.value.result.instances[0]?.outcome !== 'promoted') throw new Error('no promotion');
    }

    return {
      'events': EVENTS,
      'event_to_command_visible_ms': stats(visibleMs),
      'event_handler_ms': stats(handlerMs),
      'dynamodb_round_trips_per_event': { mean: mean(eventCalls), min: Math.min(...eventCalls), max: Math.max(...eventCalls) },
      'dynamodb_round_trips_agent_poll': { mean: mean(pollCalls) },
      'round_trips_by_command_event_plus_poll': perEventByCommand,
      'duplicate_deliveries': DUPLICATE_EVENTS,
      '3_eventbridge_plus_agent_ms': stats(dupMs),
      'dynamodb_round_trips_per_4_reports': { mean: mean(dupCalls) },
      'promotion_event_ms': stats(promoMs),
      'dynamodb_round_trips_per_promotion_event': { mean: mean(promoCalls) },
    };
  } finally {
    removeCounter();
    await gateway.close();
  }
}

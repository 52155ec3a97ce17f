/**
 * Failure matrix (test/support/fault-matrix.ts) of interruption handling: from EventBridge (a spot
 * interruption warning without and with a ready replica, the PRIMARY's terminated state change, a
 * rebalance recommendation — redelivered with the same event id, as EventBridge retries a failed
 * invocation a minute later) and from the agent (termination-imminent, create-emergency-replica,
 * rebalance-recommendation — retried with the same body), and the promotion a replica's `ready`
 * triggers for an incident waiting for it.
 */
import { faultMatrix, type Flow } from '../../support/fault-matrix.js';
import { type Agent, agentOf, deliver, must, request, tenant } from '../../support/fault-worlds.js';
import { instanceStateChange, randomInstanceId, rebalanceRecommendation, spotInterruptionWarning } from '../../support/factories.js';
import { launchedReplica, seedPool, uniqueInstanceType } from '../../support/interruption.js';

const EVENTBRIDGE_RETRY_MS = 60_000;
const AGENT_RETRY_MS = 35_000;

/** An auto-switch agent of its own instance type with two scored pools in other AZs (a safe target). */
async function autoSwitchAgent(config: Record<string, unknown> = {}): Promise<Agent> {
  const instanceType = uniqueInstanceType();
  await seedPool(instanceType, 'us-east-1a', 0.04, 0.6);
  await seedPool(instanceType, 'us-east-1b', 0.03, 0.1);
  await seedPool(instanceType, 'us-east-1c', 0.035, 0.2);
  return agentOf(await tenant(), { instanceType, config: { auto_switch_enabled: true, ...config } });
}

type WithEvent = Agent & { event: unknown };

const eventFlow = (name: string, setup: () => Promise<WithEvent>): Flow<WithEvent> => ({
  name,
  setup,
  attempt: (w) => deliver(w.event),
  retryAfterMs: EVENTBRIDGE_RETRY_MS,
  clients: (w) => [w.clientId],
});

const spotWarningNoReplica = eventFlow('EventBridge spot interruption, no replica (emergency switch)', async () => {
  const a = await autoSwitchAgent();
  return { ...a, event: spotInterruptionWarning({ instanceId: a.instanceId }) };
});

const spotWarningReadyReplica = eventFlow('EventBridge spot interruption, ready replica (promotion)', async () => {
  const a = await autoSwitchAgent();
  await launchedReplica({ ...a, az: 'us-east-1a' }, 'ready', { pool: `${a.instanceType}.us-east-1b` });
  return { ...a, event: spotInterruptionWarning({ instanceId: a.instanceId }) };
});

const primaryTerminated = eventFlow('EventBridge state change: PRIMARY terminated, no replica', async () => {
  const a = await agentOf(await tenant(), { config: { auto_switch_enabled: false } });
  return { ...a, event: instanceStateChange({ instanceId: a.instanceId, state: 'terminated' }) };
});

const rebalanceEvent = eventFlow('EventBridge rebalance recommendation (replica pre-warmed)', async () => {
  const a = await autoSwitchAgent({ rebalance_policy: 'prewarm' });
  return { ...a, event: rebalanceRecommendation({ instanceId: a.instanceId }) };
});

const agentRoute = (
  name: string,
  path: string,
  body: (w: Agent) => unknown,
  setup: () => Promise<Agent> = () => autoSwitchAgent(),
): Flow<Agent> => ({
  name,
  setup,
  attempt: (w) => request('emergency', 'POST', `/api/agents/${w.agentId}/${path}`, { token: w.token, body: body(w) }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
});

const terminationImminent = agentRoute('termination-imminent from the agent', 'termination-imminent', (w) => ({ instance_id: w.instanceId }));
const emergencyReplica = agentRoute('create-emergency-replica from the agent', 'create-emergency-replica', (w) => ({
  signal_type: 'termination-notice',
  instance_id: w.instanceId,
}));
const rebalanceFromAgent = agentRoute(
  'rebalance-recommendation from the agent',
  'rebalance-recommendation',
  (w) => ({ instance_id: w.instanceId }),
  () => autoSwitchAgent({ rebalance_policy: 'prewarm' }),
);

/** An incident waiting for a launched replica; the replica's `ready` promotes it. */
const promotion: Flow<Agent & { replicaId: string }> = {
  name: 'promotion: the awaited replica reports ready',
  async setup() {
    const a = await agentOf(await tenant(), { instanceType: uniqueInstanceType(), config: { manual_replica_enabled: true } });
    const listed = await must(request('replicas', 'GET', `/api/agents/${a.agentId}/replicas`, { token: a.token, query: { status: 'launching' } }), 'replicas');
    const replicaId = (listed.body as { replicas: { id: string }[] }).replicas[0]?.id as string;
    await must(request('emergency', 'POST', `/api/agents/${a.agentId}/termination-imminent`, { token: a.token, body: { instance_id: a.instanceId } }), 'notice');
    await must(
      request('replicas', 'PUT', `/api/agents/${a.agentId}/replicas/${replicaId}`, { token: a.token, body: { instance_id: randomInstanceId(), status: 'syncing' } }),
      'launch',
    );
    return { ...a, replicaId };
  },
  attempt: (w) => request('replicas', 'POST', `/api/agents/${w.agentId}/replicas/${w.replicaId}/status`, { token: w.token, body: { status: 'ready' } }),
  retryAfterMs: AGENT_RETRY_MS,
  clients: (w) => [w.clientId],
};

await faultMatrix([
  spotWarningNoReplica,
  spotWarningReadyReplica,
  primaryTerminated,
  rebalanceEvent,
  terminationImminent,
  emergencyReplica,
  rebalanceFromAgent,
  promotion,
] as Flow<never>[]);

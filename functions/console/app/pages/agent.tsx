/** One agent: its instances, prices, decisions, switches, commands, emergencies, settings, switching. */
import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, errorText } from '../api.js';
import { Chart, type SeriesSpec } from '../chart.js';
import { duration, label, money, num, percent } from '../format.js';
import { useApi, useApp, usePaged } from '../hooks.js';
import { conflictMessage, type PricePoint, priceSeries } from '../model.js';
import { href } from '../router.js';
import { Async, Badge, Card, Dialog, Empty, Field, Money, PageTitle, Stat, Table, Time, PagedTable } from '../ui.js';
import { type Agent, agentName, type EmergencyEvent, emergencyColumns, type Switch, switchColumns } from './client.js';

interface Instance {
  id: string;
  role: string;
  mode: string;
  pool_id: string | null;
  instance_type: string;
  az: string;
  spot_price: number | null;
  ondemand_price: number | null;
  last_seen_at: string | null;
  zombie_since: string | null;
  terminated_at: string | null;
}

const PALETTE = ['#2b6cb0', '#2f855a', '#805ad5', '#d69e2e', '#319795', '#b83280'];

export function AgentDetail({ cid, aid }: { cid: string; aid: string }) {
  const agent = useApi<Agent>(`/api/agents/${aid}`, {}, ['agents']);
  return (
    <Async loaded={agent} what="Loading the agent">
      {(a) => (
        <>
          <p class="crumbs">
            <a href={href('c', cid, 'agents')}>← Agents</a>
          </p>
          <PageTitle sub={<span class="mono">{a.id}</span>}>{agentName(a)}</PageTitle>
          <div class="stats">
            <Stat testId="agent-status" label="Status" value={<Badge value={a.status} />} hint={<>heartbeat <Time at={a.last_heartbeat_at} ago /></>} />
            <Stat testId="agent-mode" label="Mode" value={a.current_mode ? label(a.current_mode) : '—'} hint={<span class="mono">{a.current_pool_id ?? ''}</span>} />
            <Stat label="Instance" value={<span class="mono small">{a.instance_id ?? '—'}</span>} hint={`${a.instance_type ?? ''} · ${a.region ?? ''}`} />
            <Stat label="Notice" value={a.notice_status === 'none' ? 'none' : <Badge value={a.notice_status} />} hint={a.notice_deadline ? <>deadline <Time at={a.notice_deadline} /></> : undefined} />
          </div>
          <Instances cid={cid} aid={aid} />
          {a.instance_id && <PriceHistory iid={a.instance_id} pool={a.current_pool_id} />}
          <div class="grid two">
            <Settings agent={a} onSaved={agent.reload} />
            {a.instance_id && a.status !== 'deleted' ? <SwitchPanel agent={a} /> : <Card title="Switch"><Empty>No PRIMARY instance to switch.</Empty></Card>}
          </div>
          <Decisions aid={aid} />
          <History cid={cid} aid={aid} />
        </>
      )}
    </Async>
  );
}

function Instances({ cid, aid }: { cid: string; aid: string }) {
  const list = useApi<{ instances: Instance[] }>(`/api/client/${cid}/instances`, { agent_id: aid, status: 'all', limit: 200 }, ['instances']);
  return (
    <Card title="Instances">
      <Async loaded={list}>
        {(l) => (
          <Table
            caption="Instances of this agent"
            rows={l.instances}
            rowKey={(i) => i.id}
            empty="No instance."
            columns={[
              { key: 'id', label: 'Instance', render: (i) => <span class="mono">{i.id}</span> },
              { key: 'role', label: 'Role', render: (i) => <Badge value={i.role} /> },
              { key: 'mode', label: 'Mode', render: (i) => <Badge value={i.mode} /> },
              { key: 'pool_id', label: 'Pool', render: (i) => <span class="mono">{i.pool_id ?? '—'}</span> },
              { key: 'price', label: 'Price', numeric: true, value: (i) => (i.mode === 'spot' ? i.spot_price : i.ondemand_price), render: (i) => <Money value={i.mode === 'spot' ? i.spot_price : i.ondemand_price} hourly /> },
              { key: 'last_seen_at', label: 'Last seen', render: (i) => <Time at={i.last_seen_at} ago /> },
              { key: 'ended', label: 'Since', value: (i) => i.terminated_at ?? i.zombie_since, render: (i) => (i.terminated_at ? <>terminated <Time at={i.terminated_at} ago /></> : i.zombie_since ? <>zombie <Time at={i.zombie_since} ago /></> : '—') },
            ]}
          />
        )}
      </Async>
    </Card>
  );
}

function PriceHistory({ iid, pool }: { iid: string; pool: string | null }) {
  const [days, setDays] = useState(7);
  const history = useApi<{ points: PricePoint[] }>(`/api/client/instances/${iid}/price-history`, { days, interval: 'hour' });
  const chart = useMemo(() => (history.data ? priceSeries(history.data.points, pool) : null), [history.data, pool]);
  const series: SeriesSpec[] = chart ? [{ label: 'On-demand', color: '#c05621', dash: [6, 4] }, ...chart.pools.map((p, i) => ({ label: p === pool ? `${p} (current)` : p, color: PALETTE[i % PALETTE.length] ?? '#333' }))] : [];
  return (
    <Card
      title="Price history: current pool against its alternatives"
      actions={(
        <div class="seg" role="group" aria-label="Period">
          {[1, 7, 30].map((d) => (
            <button key={d} type="button" aria-pressed={days === d} onClick={() => setDays(d)}>
              {d === 1 ? '24 h' : `${d} d`}
            </button>
          ))}
        </div>
      )}
    >
      <Async loaded={history}>{() => (!chart || chart.data[0]?.length === 0 ? <Empty>No price history for this pool yet.</Empty> : <Chart title="Hourly spot prices of the current pool and its alternatives, with the on-demand price" data={chart.data} series={series} hourly />)}</Async>
    </Card>
  );
}

const POLICIES: Array<[string, string]> = [
  ['', 'Default (pre-warm with auto-switch, else monitor)'],
  ['ignore', 'Ignore'],
  ['monitor', 'Monitor'],
  ['prewarm', 'Pre-warm a replica'],
  ['switch', 'Switch away'],
];

function Settings({ agent, onSaved }: { agent: Agent; onSaved: () => void }) {
  const { toast } = useApp();
  const c = agent.config as Record<string, unknown>;
  const initial = () => ({
    auto_switch_enabled: Boolean(c.auto_switch_enabled),
    manual_replica_enabled: Boolean(c.manual_replica_enabled),
    rebalance_policy: (c.rebalance_policy as string | null) ?? '',
    min_savings_percent: String(c.min_savings_percent ?? ''),
    risk_threshold: String(c.risk_threshold ?? ''),
    max_switches_per_day: String(c.max_switches_per_day ?? ''),
    max_switches_per_week: String(c.max_switches_per_week ?? ''),
  });
  const [form, setForm] = useState(initial);
  const [version, setVersion] = useState(agent.version);
  const [conflict, setConflict] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof ReturnType<typeof initial>, v: string | boolean) => setForm((f) => ({ ...f, [k]: v }));
  const save = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setConflict(null);
    try {
      const out = await api.post<{ version: number; side_effects?: { replicas_terminated?: number; replica_requested?: boolean; commands_cancelled?: number } }>(`/api/client/agents/${agent.id}/settings`, {
        version,
        auto_switch_enabled: form.auto_switch_enabled,
        manual_replica_enabled: form.manual_replica_enabled,
        rebalance_policy: form.rebalance_policy || null,
        min_savings_percent: Number(form.min_savings_percent),
        risk_threshold: Number(form.risk_threshold),
        max_switches_per_day: Number(form.max_switches_per_day),
        max_switches_per_week: Number(form.max_switches_per_week),
      });
      setVersion(out.version);
      const fx = out.side_effects;
      toast(`Settings saved (version ${out.version})${fx && (fx.replicas_terminated || fx.commands_cancelled || fx.replica_requested) ? `: ${fx.replicas_terminated ?? 0} replicas terminated, ${fx.commands_cancelled ?? 0} commands cancelled${fx.replica_requested ? ', a replica requested' : ''}` : ''}`);
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'VERSION_CONFLICT') setConflict(conflictMessage(err.details as Array<{ field?: string; current_version?: number }>));
      else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const reload = async () => {
    try {
      const fresh = await api.get<Agent>(`/api/agents/${agent.id}`);
      const fc = fresh.config as Record<string, unknown>;
      setVersion(fresh.version);
      setForm({
        auto_switch_enabled: Boolean(fc.auto_switch_enabled),
        manual_replica_enabled: Boolean(fc.manual_replica_enabled),
        rebalance_policy: (fc.rebalance_policy as string | null) ?? '',
        min_savings_percent: String(fc.min_savings_percent ?? ''),
        risk_threshold: String(fc.risk_threshold ?? ''),
        max_switches_per_day: String(fc.max_switches_per_day ?? ''),
        max_switches_per_week: String(fc.max_switches_per_week ?? ''),
      });
      setConflict(null);
      onSaved();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Card title="Settings">
      <form onSubmit={save} class="settings" data-testid="settings-form">
        {conflict && (
          <div class="state warn" role="alert" data-testid="settings-conflict">
            <span>{conflict}</span>
            <button type="button" onClick={reload}>
              Reload
            </button>
          </div>
        )}
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
        <label class="check-field">
          <input type="checkbox" name="auto_switch_enabled" checked={form.auto_switch_enabled} onChange={(e) => setForm((f) => ({ ...f, auto_switch_enabled: e.currentTarget.checked, manual_replica_enabled: e.currentTarget.checked ? false : f.manual_replica_enabled }))} />
          <span>Auto-switch (the engine moves the workload to cheaper or safer pools)</span>
        </label>
        <label class="check-field">
          <input type="checkbox" name="manual_replica_enabled" checked={form.manual_replica_enabled} onChange={(e) => setForm((f) => ({ ...f, manual_replica_enabled: e.currentTarget.checked, auto_switch_enabled: e.currentTarget.checked ? false : f.auto_switch_enabled }))} />
          <span>Manual replica (keep one standby; turns auto-switch off)</span>
        </label>
        <Field label="Rebalance policy">
          <select name="rebalance_policy" value={form.rebalance_policy} onChange={(e) => set('rebalance_policy', e.currentTarget.value)}>
            {POLICIES.map(([v, t]) => (
              <option key={v} value={v}>
                {t}
              </option>
            ))}
          </select>
        </Field>
        <div class="form-grid">
          <Field label="Minimum saving (%)">
            <input name="min_savings_percent" type="number" min="0" max="100" step="any" required value={form.min_savings_percent} onInput={(e) => set('min_savings_percent', e.currentTarget.value)} />
          </Field>
          <Field label="Risk threshold (0–1)">
            <input name="risk_threshold" type="number" min="0" max="1" step="0.01" required value={form.risk_threshold} onInput={(e) => set('risk_threshold', e.currentTarget.value)} />
          </Field>
          <Field label="Max switches per day">
            <input name="max_switches_per_day" type="number" min="0" max="1000" step="1" required value={form.max_switches_per_day} onInput={(e) => set('max_switches_per_day', e.currentTarget.value)} />
          </Field>
          <Field label="Max switches per week">
            <input name="max_switches_per_week" type="number" min="0" max="1000" step="1" required value={form.max_switches_per_week} onInput={(e) => set('max_switches_per_week', e.currentTarget.value)} />
          </Field>
        </div>
        <div class="form-actions">
          <span class="muted small">Version {version}</span>
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save settings'}
          </button>
        </div>
      </form>
    </Card>
  );
}

interface Simulation {
  current_price: number | null;
  target_pool_id: string | null;
  target_price: number | null;
  hourly_savings: number | null;
  daily_savings: number | null;
  monthly_savings: number | null;
  estimated_downtime_seconds: number | null;
  confidence: number | null;
  recommendation: string;
  reasons: string[];
}

function SwitchPanel({ agent }: { agent: Agent }) {
  const { toast } = useApp();
  const iid = agent.instance_id as string;
  const options = useApi<{ available_pools: Array<{ pool_id: string; price: number; savings_percent: number | null; risk_score: number | null }> }>(`/api/client/instances/${iid}/available-options`);
  const [target, setTarget] = useState('spot');
  const [sim, setSim] = useState<Simulation | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const body = target === 'ondemand' ? { target_type: 'ondemand' } : target === 'spot' ? { target_type: 'spot' } : { target_type: 'spot', target_pool: target };
  const simulate = async () => {
    setBusy(true);
    setError(null);
    try {
      setSim(await api.post<Simulation>(`/api/client/instances/${iid}/simulate-switch`, body));
      setConfirming(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const force = async () => {
    setBusy(true);
    try {
      const cmd = await api.post<{ id: string }>(`/api/client/instances/${iid}/force-switch`, target === 'ondemand' || target === 'spot' ? { target, reason: 'console' } : { target: 'pool', pool_id: target, reason: 'console' });
      toast(`Switch queued (command ${cmd.id.slice(0, 8)}): the agent picks it up within 15 s`);
      setConfirming(false);
    } catch (err) {
      setError(errorText(err));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title="Switch">
      <div class="switch-panel">
        <Field label="Target" hint="Simulate first: you see the expected saving before confirming.">
          <select name="switch_target" value={target} onChange={(e) => setTarget(e.currentTarget.value)}>
            <option value="spot">Cheapest safe spot pool</option>
            <option value="ondemand">On-demand</option>
            {(options.data?.available_pools ?? []).map((p) => (
              <option key={p.pool_id} value={p.pool_id}>
                {p.pool_id} · {money(p.price, { hourly: true })} · risk {num(p.risk_score, 2)}
              </option>
            ))}
          </select>
        </Field>
        <button type="button" onClick={simulate} disabled={busy}>
          Simulate switch…
        </button>
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
      </div>
      <Dialog title="Confirm the switch" open={confirming} onClose={() => setConfirming(false)}>
        {sim && (
          <div data-testid="simulation">
            <dl class="ledger">
              <dt>Now</dt>
              <dd><Money value={sim.current_price} hourly /></dd>
              <dt>Target {sim.target_pool_id ? <span class="mono">{sim.target_pool_id}</span> : 'on-demand'}</dt>
              <dd><Money value={sim.target_price} hourly /></dd>
              <dt>Expected saving</dt>
              <dd data-testid="sim-hourly"><Money value={sim.hourly_savings} hourly /></dd>
              <dt>Per day / per month</dt>
              <dd><Money value={sim.daily_savings} /> / <Money value={sim.monthly_savings} /></dd>
              <dt>Expected downtime</dt>
              <dd>{sim.estimated_downtime_seconds === null ? '—' : duration(sim.estimated_downtime_seconds * 1000)}</dd>
              <dt>Recommendation</dt>
              <dd><Badge value={sim.recommendation} tone={sim.recommendation === 'proceed' ? 'good' : sim.recommendation === 'caution' ? 'warn' : 'bad'} /> {percent(sim.confidence, { ratio: true, digits: 0 })} confidence</dd>
            </dl>
            {sim.reasons.length > 0 && (
              <ul class="reasons">
                {sim.reasons.map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            )}
            <div class="form-actions">
              <button type="button" onClick={() => setConfirming(false)}>
                Cancel
              </button>
              <button type="button" class="primary" onClick={force} disabled={busy}>
                Switch now
              </button>
            </div>
          </div>
        )}
      </Dialog>
    </Card>
  );
}

interface Decision {
  decision_id: string;
  decision_type: string;
  recommended_pool_id: string | null;
  risk_score: number | null;
  expected_savings_per_hour: number | null;
  confidence: number | null;
  allowed: boolean;
  reason: string;
  created_at: string;
}

function Decisions({ aid }: { aid: string }) {
  const list = usePaged<Decision>(`/api/client/agents/${aid}/decision-log`, 'decisions', { limit: 10 }, ['switches']);
  return (
    <Card title="Decisions">
      <PagedTable
        list={list}
        caption="Engine decisions"
        rowKey={(d) => d.decision_id}
        empty="The engine has not decided anything for this agent yet."
        columns={[
          { key: 'created_at', label: 'When', render: (d) => <Time at={d.created_at} /> },
          { key: 'decision_type', label: 'Decision', render: (d) => <Badge value={d.decision_type} tone={d.decision_type.startsWith('switch') ? 'info' : 'neutral'} /> },
          { key: 'recommended_pool_id', label: 'Target', render: (d) => <span class="mono">{d.recommended_pool_id ?? '—'}</span> },
          { key: 'expected_savings_per_hour', label: 'Saving', numeric: true, render: (d) => <Money value={d.expected_savings_per_hour} hourly /> },
          { key: 'allowed', label: 'Allowed', value: (d) => (d.allowed ? 'yes' : 'no') },
          { key: 'reason', label: 'Reason', sortable: false, render: (d) => <span class="reason">{d.reason}</span> },
        ]}
      />
    </Card>
  );
}

interface Command {
  id: string;
  command_type: string;
  status: string;
  trigger_type: string;
  priority: number;
  target_mode: string | null;
  target_pool_id: string | null;
  created_at: string;
  completed_at: string | null;
  message: string | null;
  reason: string | null;
}

function History({ cid, aid }: { cid: string; aid: string }) {
  const switches = usePaged<Switch>(`/api/client/${cid}/switch-history`, 'switches', { agent_id: aid, limit: 10 }, ['switches']);
  const commands = usePaged<Command>(`/api/client/agents/${aid}/commands`, 'commands', { limit: 10 }, ['commands']);
  const incidents = usePaged<EmergencyEvent>(`/api/client/${cid}/insights/emergencies`, 'events', { agent_id: aid, limit: 10 }, ['emergencies']);
  return (
    <>
      <Card title="Switch history">
        <PagedTable list={switches} caption="Switches of this agent" rowKey={(s) => s.id} columns={switchColumns(cid, false)} empty="No switch yet." />
      </Card>
      <Card title="Commands (pending and recent)">
        <PagedTable
          list={commands}
          caption="Commands of this agent"
          rowKey={(c) => c.id}
          empty="No command."
          columns={[
            { key: 'created_at', label: 'Created', render: (c) => <Time at={c.created_at} /> },
            { key: 'command_type', label: 'Type', value: (c) => label(c.command_type) },
            { key: 'target', label: 'Target', value: (c) => c.target_pool_id ?? c.target_mode, render: (c) => <span class="mono">{c.target_mode === 'ondemand' ? 'on-demand' : (c.target_pool_id ?? '—')}</span> },
            { key: 'trigger_type', label: 'Trigger', render: (c) => `${label(c.trigger_type)} (${c.priority})` },
            { key: 'status', label: 'Status', render: (c) => <Badge value={c.status} /> },
            { key: 'completed_at', label: 'Finished', render: (c) => <Time at={c.completed_at} /> },
            { key: 'message', label: 'Note', sortable: false, render: (c) => <span class="reason">{c.message ?? c.reason ?? ''}</span> },
          ]}
        />
      </Card>
      <Card title="Emergency timeline">
        <PagedTable list={incidents} caption="Emergencies of this agent" rowKey={(e) => e.id} columns={emergencyColumns(cid, false)} empty="No interruption or rebalance notice so far." />
      </Card>
    </>
  );
}

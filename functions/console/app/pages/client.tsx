/** The client console: what a client team watches and steers (one client's data). */
import { useMemo, useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { type SeriesSpec, Chart } from '../chart.js';
import { dayLabel, duration, hoursText, label, money, num, percent } from '../format.js';
import { useApi, useApp, usePaged } from '../hooks.js';
import { fleetCounts, savingsSeries, type DailySavingsRow } from '../model.js';
import { href, type Route } from '../router.js';
import { Async, Badge, Card, type Column, Empty, Field, Money, PageTitle, Select, Stat, Table, Time, PagedTable } from '../ui.js';
import { AgentDetail } from './agent.js';

export const CLIENT_NAV: Array<[string, string]> = [
  ['', 'Overview'],
  ['savings', 'Savings'],
  ['agents', 'Agents'],
  ['pools', 'Pools & failover'],
  ['downtime', 'Downtime'],
  ['notifications', 'Notifications'],
  ['alerts', 'Pricing alerts'],
];

export function ClientPage({ clientId, page, route }: { clientId: string; page: string; route: Route }) {
  if (!clientId) return <Empty>No client selected.</Empty>;
  switch (page) {
    case '':
      return <Overview cid={clientId} />;
    case 'savings':
      return <Savings cid={clientId} />;
    case 'agents':
      return route.parts[3] ? <AgentDetail cid={clientId} aid={route.parts[3]} /> : <Agents cid={clientId} />;
    case 'pools':
      return <PoolsAndFailover cid={clientId} />;
    case 'downtime':
      return <Downtime cid={clientId} />;
    case 'notifications':
      return <Notifications cid={clientId} />;
    case 'alerts':
      return <Alerts cid={clientId} />;
    default:
      return <Empty>This page does not exist.</Empty>;
  }
}

interface ClientSummary {
  id: string;
  name: string;
  status: string;
  agents_online: number;
  agents_total: number;
  instances_active: number;
  total_savings: number;
}

export interface Agent {
  id: string;
  client_id: string;
  logical_agent_id: string;
  hostname: string | null;
  status: string;
  enabled: boolean;
  last_heartbeat_at: string | null;
  notice_status: string;
  notice_deadline: string | null;
  instance_id: string | null;
  instance_type: string | null;
  az: string | null;
  region: string | null;
  current_mode: string | null;
  current_pool_id: string | null;
  version: number;
  created_at: string;
  agent_version: string | null;
  config: Record<string, unknown> & { auto_switch_enabled: boolean; manual_replica_enabled: boolean; config_version: number };
}

export interface Switch {
  id: string;
  agent_id: string;
  trigger_type: string;
  old_pool_id: string | null;
  new_pool_id: string | null;
  old_mode: string;
  new_mode: string;
  old_price: number | null;
  new_price: number | null;
  savings_impact: number | null;
  downtime_seconds: number | null;
  initiated_at: string | null;
  completed_at: string | null;
}

export interface EmergencyEvent {
  id: string;
  agent_id: string;
  instance_id: string;
  signal_type: string;
  outcome: string;
  detected_at: string;
  deadline: string | null;
  action_taken: string | null;
  failover_time_ms: number | null;
  resolved_at: string | null;
  sources: string[];
}

export const switchColumns = (cid: string, withAgent: boolean): Column<Switch>[] => [
  { key: 'completed_at', label: 'When', value: (s) => s.completed_at ?? s.initiated_at, render: (s) => <Time at={s.completed_at ?? s.initiated_at} /> },
  ...(withAgent ? [{ key: 'agent_id', label: 'Agent', render: (s: Switch) => <a href={href('c', cid, 'agents', s.agent_id)}>{s.agent_id.slice(0, 8)}</a> }] : []),
  { key: 'trigger_type', label: 'Trigger', render: (s) => <Badge value={s.trigger_type} tone="info" /> },
  { key: 'from', label: 'From', value: (s) => s.old_pool_id ?? s.old_mode, render: (s) => <span class="mono">{s.old_mode === 'ondemand' ? 'on-demand' : s.old_pool_id}</span> },
  { key: 'to', label: 'To', value: (s) => s.new_pool_id ?? s.new_mode, render: (s) => <span class="mono">{s.new_mode === 'ondemand' ? 'on-demand' : s.new_pool_id}</span> },
  { key: 'savings_impact', label: 'Saving', numeric: true, render: (s) => <Money value={s.savings_impact} hourly /> },
  { key: 'downtime_seconds', label: 'Downtime', numeric: true, render: (s) => (s.downtime_seconds === null ? '—' : duration(s.downtime_seconds * 1000)) },
];

export const emergencyColumns = (cid: string, withAgent: boolean): Column<EmergencyEvent>[] => [
  { key: 'detected_at', label: 'Detected', render: (e) => <Time at={e.detected_at} /> },
  ...(withAgent ? [{ key: 'agent_id', label: 'Agent', render: (e: EmergencyEvent) => <a href={href('c', cid, 'agents', e.agent_id)}>{e.agent_id.slice(0, 8)}</a> }] : []),
  { key: 'signal_type', label: 'Signal', render: (e) => <Badge value={e.signal_type} /> },
  { key: 'instance_id', label: 'Instance', render: (e) => <span class="mono">{e.instance_id}</span> },
  { key: 'action_taken', label: 'Action', value: (e) => label(e.action_taken) },
  { key: 'outcome', label: 'Outcome', render: (e) => <Badge value={e.outcome} /> },
  { key: 'failover_time_ms', label: 'Failover', numeric: true, value: (e) => e.failover_time_ms, render: (e) => duration(e.failover_time_ms) },
  { key: 'deadline', label: 'Deadline', render: (e) => <Time at={e.deadline} /> },
];

function Overview({ cid }: { cid: string }) {
  const client = useApi<ClientSummary>(`/api/client/${cid}`, {}, ['agents', 'overview']);
  const savings = useApi<{ total_savings: number; monthly_savings: number | null; savings_by_month: Array<{ month: string; savings: number }>; average_savings_percent: number | null; as_of: string | null }>(`/api/client/${cid}/savings`, { months: 1 }, ['savings']);
  const agents = useApi<{ agents: Agent[] }>(`/api/client/${cid}/agents`, { limit: 200 }, ['agents']);
  const instances = useApi<{ instances: Array<{ role: string; mode: string }> }>(`/api/client/${cid}/instances`, { status: 'active', limit: 200 }, ['instances']);
  const incidents = useApi<{ summary: { total: number }; events: EmergencyEvent[] }>(`/api/client/${cid}/insights/emergencies`, { outcome: 'open', limit: 5 }, ['emergencies']);
  const switches = useApi<{ switches: Switch[]; total: number }>(`/api/client/${cid}/switch-history`, { limit: 5 }, ['switches']);
  return (
    <>
      <PageTitle sub={client.data ? `${client.data.name} · ${client.data.status}` : undefined}>Overview</PageTitle>
      <div class="stats">
        <Async loaded={savings}>
          {(s) => (
            <>
              <Stat testId="savings-month" label="Saved this month" value={<Money value={s.savings_by_month.at(-1)?.savings ?? 0} />} hint={s.as_of ? <>through <Time at={s.as_of} short /></> : 'no day closed yet'} />
              <Stat testId="savings-total" label="Saved in total" value={<Money value={s.total_savings} />} hint={s.average_savings_percent === null ? undefined : `${percent(s.average_savings_percent)} below on-demand`} />
            </>
          )}
        </Async>
        <Async loaded={client}>
          {(c) => (
            <>
              <Stat testId="agents-online" label="Agents online" value={`${num(c.agents_online)} / ${num(c.agents_total)}`} hint={`${num(c.agents_total - c.agents_online)} offline or idle`} />
              <Stat testId="instances-active" label="Active instances" value={num(c.instances_active)} />
            </>
          )}
        </Async>
        <Async loaded={incidents}>{(i) => <Stat testId="open-incidents" label="Open incidents" value={num(i.summary.total)} hint={i.summary.total ? 'being handled now' : 'all clear'} />}</Async>
      </div>
      <div class="grid two">
        <Card title="Fleet by role and mode">
          <Async loaded={instances}>
            {(inst) => {
              const counts = fleetCounts(agents.data?.agents ?? [], inst.instances);
              const roles = Object.entries(counts.byRole);
              return roles.length === 0 ? (
                <Empty>No live instances.</Empty>
              ) : (
                <table class="compact" data-testid="fleet-table">
                  <caption class="sr-only">Live instances by role and mode</caption>
                  <thead>
                    <tr>
                      <th scope="col">Role</th>
                      <th scope="col" class="num">Spot</th>
                      <th scope="col" class="num">On-demand</th>
                    </tr>
                  </thead>
                  <tbody>
                    {roles.map(([role, c]) => (
                      <tr key={role}>
                        <td>
                          <Badge value={role} />
                        </td>
                        <td class="num">{num(c.spot)}</td>
                        <td class="num">{num(c.ondemand)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              );
            }}
          </Async>
        </Card>
        <Card title="Open incidents">
          <Async loaded={incidents}>{(i) => <Table caption="Open incidents" rows={i.events} rowKey={(e) => e.id} columns={emergencyColumns(cid, true).slice(0, 5)} empty="No open incident: every interruption so far has been handled." />}</Async>
        </Card>
      </div>
      <Card title="Last switches" actions={<a href={href('c', cid, 'agents')}>All agents →</a>}>
        <Async loaded={switches}>{(s) => <Table caption="Last switches" rows={s.switches} rowKey={(x) => x.id} columns={switchColumns(cid, true)} empty="No switch yet." />}</Async>
      </Card>
    </>
  );
}

const SAVINGS_SERIES: SeriesSpec[] = [
  { label: 'Saved per day', color: '#2f855a', kind: 'bars' },
  { label: 'Cumulative', color: '#2b6cb0', scale: 'cum' },
];
const COST_SERIES: SeriesSpec[] = [
  { label: 'On-demand baseline', color: '#c05621', dash: [6, 4] },
  { label: 'Paid', color: '#2b6cb0', fill: '#2b6cb022' },
];

interface Cause {
  window: { from: string; to: string; days: number };
  spot: { savings: number; hours: number };
  replica_overhead: { cost: number; hours: number; replicas: number };
  ondemand_fallback: { hours: number; share_of_hours: number | null; cost: number };
  net_savings: number;
  ondemand_baseline: number;
  actual_cost: number;
}

function SavingsByCause({ cid, days }: { cid: string; days: number }) {
  const cause = useApi<Cause>(`/api/client/${cid}/insights/savings-by-cause`, { days }, ['savings']);
  return (
    <Card title="Savings by cause">
      <Async loaded={cause}>
        {(c) => (
          <div data-testid="savings-by-cause">
            <dl class="ledger">
              <dt>Time on spot <span class="muted">({hoursText(c.spot.hours)})</span></dt>
              <dd data-testid="cause-spot"><Money value={c.spot.savings} /></dd>
              <dt>Replica overhead <span class="muted">({hoursText(c.replica_overhead.hours)} on {num(c.replica_overhead.replicas)} replicas)</span></dt>
              <dd data-testid="cause-replicas"><Money value={c.replica_overhead.cost} /></dd>
              <dt>On-demand fallback <span class="muted">({hoursText(c.ondemand_fallback.hours)}, {percent(c.ondemand_fallback.share_of_hours, { ratio: true })} of the time; saves nothing)</span></dt>
              <dd data-testid="cause-ondemand"><Money value={0} /></dd>
              <dt class="total">Net savings</dt>
              <dd class="total" data-testid="cause-net"><Money value={c.net_savings} /></dd>
            </dl>
            <p class="muted small">
              Days <Time at={c.window.from} short /> to <Time at={c.window.to} short />: on-demand baseline {money(c.ondemand_baseline)},
              paid {money(c.actual_cost)} including replicas; on-demand hours cost {money(c.ondemand_fallback.cost)}.
            </p>
          </div>
        )}
      </Async>
    </Card>
  );
}

function Savings({ cid }: { cid: string }) {
  const { toast } = useApp();
  const [days, setDays] = useState('30');
  const daily = useApi<{ days: DailySavingsRow[]; totals: { savings: number; ondemand_cost: number; actual_cost: number }; as_of: string | null }>(`/api/client/${cid}/savings/daily`, { days }, ['savings']);
  const series = useMemo(() => (daily.data ? savingsSeries(daily.data.days) : null), [daily.data]);
  const download = async () => {
    try {
      const blob = await api.blob(`/api/client/${cid}/export/savings`);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = `savings-${cid}.csv`;
      a.click();
      window.setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    } catch (err) {
      toast(`Download failed: ${errorText(err)}`, 'error');
    }
  };
  return (
    <>
      <PageTitle sub="Closed days (each day is frozen at 00:10 UTC the next day).">Savings</PageTitle>
      <div class="toolbar">
        <Select label="Period" value={days} onChange={setDays} options={[['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days'], ['365', 'Last year']]} />
        <button type="button" onClick={download}>
          Download CSV
        </button>
      </div>
      <Async loaded={daily}>
        {(d) =>
          d.days.length === 0 || !series ? (
            <Empty>No closed day yet: savings appear here after the first daily snapshot.</Empty>
          ) : (
            <>
              <div class="stats">
                <Stat testId="period-savings" label="Saved in the period" value={<Money value={d.totals.savings} />} />
                <Stat label="On-demand baseline" value={<Money value={d.totals.ondemand_cost} />} />
                <Stat label="Paid" value={<Money value={d.totals.actual_cost} />} hint={d.totals.ondemand_cost > 0 ? `${percent((1 - d.totals.actual_cost / d.totals.ondemand_cost) * 100)} less` : undefined} />
              </div>
              <div class="grid two">
                <Card title="Saved per day and cumulative">
                  <Chart title="Daily savings bars and cumulative savings line" data={[series[0], series[1], series[2]]} series={SAVINGS_SERIES} secondAxis="Cumulative" />
                </Card>
                <Card title="On-demand baseline vs paid, per day">
                  <Chart title="On-demand baseline against the amount paid per day" data={[series[0], series[3], series[4]]} series={COST_SERIES} />
                </Card>
              </div>
              <Card title="Per day">
                <Table
                  caption="Savings per day"
                  rows={d.days}
                  rowKey={(r) => r.date}
                  initialSort={{ key: 'date', dir: 'desc' }}
                  columns={[
                    { key: 'date', label: 'Day (UTC)', render: (r) => dayLabel(r.date) },
                    { key: 'savings', label: 'Saved', numeric: true, render: (r) => <Money value={r.savings} /> },
                    { key: 'ondemand_cost', label: 'Baseline', numeric: true, render: (r) => <Money value={r.ondemand_cost} /> },
                    { key: 'actual_cost', label: 'Paid', numeric: true, render: (r) => <Money value={r.actual_cost} /> },
                    { key: 'cumulative_savings', label: 'Cumulative', numeric: true, render: (r) => <Money value={r.cumulative_savings} /> },
                  ]}
                />
              </Card>
            </>
          )
        }
      </Async>
      <SavingsByCause cid={cid} days={Number(days) > 90 ? 90 : Number(days)} />
    </>
  );
}

export const agentName = (a: Pick<Agent, 'hostname' | 'logical_agent_id'>) => a.hostname ?? a.logical_agent_id;

function Agents({ cid }: { cid: string }) {
  const [status, setStatus] = useState('');
  const list = usePaged<Agent>(`/api/client/${cid}/agents`, 'agents', { status, limit: 50 }, ['agents']);
  return (
    <>
      <PageTitle>Agents</PageTitle>
      <div class="toolbar">
        <Select label="Status" value={status} onChange={setStatus} options={[['', 'Any'], ['online', 'Online'], ['offline', 'Offline'], ['switching', 'Switching'], ['disabled', 'Disabled'], ['error', 'Error']]} />
      </div>
      <Card>
        <PagedTable
          list={list}
          caption="Agents"
          rowKey={(a) => a.id}
          empty="No agent has registered yet. Install the agent with this client's token."
          columns={[
            { key: 'name', label: 'Agent', value: agentName, render: (a) => <a href={href('c', cid, 'agents', a.id)}>{agentName(a)}</a> },
            { key: 'status', label: 'Status', render: (a) => <Badge value={a.status} /> },
            { key: 'last_heartbeat_at', label: 'Heartbeat', value: (a) => a.last_heartbeat_at, render: (a) => <Time at={a.last_heartbeat_at} ago /> },
            { key: 'current_pool_id', label: 'Pool', render: (a) => <span class="mono">{a.current_pool_id ?? '—'}</span> },
            { key: 'current_mode', label: 'Mode', render: (a) => (a.current_mode ? <Badge value={a.current_mode} /> : '—') },
            { key: 'auto', label: 'Auto-switch', value: (a) => (a.config.auto_switch_enabled ? 'on' : 'off'), render: (a) => (a.config.auto_switch_enabled ? 'On' : a.config.manual_replica_enabled ? 'Off (manual replica)' : 'Off') },
            { key: 'notice_status', label: 'Notice', render: (a) => (a.notice_status === 'none' ? <span class="muted">none</span> : <Badge value={a.notice_status} />) },
          ]}
        />
      </Card>
    </>
  );
}

interface PoolRow {
  pool_id: string;
  mode: string;
  instance_type: string;
  az: string;
  price: number | null;
  on_demand_price: number | null;
  savings_percent: number | null;
  risk_score: number | null;
  interruptions_30d: number;
  client_interruptions: number;
  hours: number;
  share_of_time: number | null;
  agents_now: number;
}

interface Latency {
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  max_ms: number | null;
}

interface Failover {
  summary: { interruptions: number; recovered: number; before_deadline: number; notice_to_command: Latency; command_to_promotion: Latency; notice_to_promotion: Latency; time_left_before_reclaim: Latency };
  incidents: Array<{
    id: string;
    agent_id: string;
    instance_id: string;
    outcome: string;
    path: string;
    notice_at: string;
    notice_to_command_ms: number | null;
    command_to_promotion_ms: number | null;
    notice_to_promotion_ms: number | null;
    time_left_ms: number | null;
  }>;
}

const LatencyStat = ({ name, l, testId }: { name: string; l: Latency; testId: string }) => (
  <Stat testId={testId} label={name} value={<>p50 {duration(l.p50_ms)}</>} hint={`p95 ${duration(l.p95_ms)} · ${num(l.count)} measured`} />
);

function PoolsAndFailover({ cid }: { cid: string }) {
  const [days, setDays] = useState('30');
  const pools = useApi<{ pools: PoolRow[] }>(`/api/client/${cid}/insights/pools`, { days }, ['switches', 'agents']);
  const failover = useApi<Failover>(`/api/client/${cid}/insights/failover`, { days }, ['emergencies']);
  return (
    <>
      <PageTitle sub="Where your workloads ran, what each pool cost and risked, and how fast interruptions were survived.">Pools & failover</PageTitle>
      <div class="toolbar">
        <Select label="Period" value={days} onChange={setDays} options={[['7', 'Last 7 days'], ['30', 'Last 30 days'], ['90', 'Last 90 days']]} />
      </div>
      <Card title="Pools">
        <Async loaded={pools}>
          {(p) => (
            <Table
              caption="Pools used"
              rows={p.pools}
              rowKey={(r) => `${r.mode}|${r.pool_id}`}
              initialSort={{ key: 'hours', dir: 'desc' }}
              empty="No instance has run yet."
              columns={[
                { key: 'pool_id', label: 'Pool', render: (r) => <span class="mono">{r.mode === 'ondemand' ? `${r.instance_type} on-demand (${r.az})` : r.pool_id}</span> },
                { key: 'price', label: 'Price', numeric: true, render: (r) => <Money value={r.price} hourly /> },
                { key: 'savings_percent', label: 'vs on-demand', numeric: true, render: (r) => percent(r.savings_percent) },
                { key: 'risk_score', label: 'Risk', numeric: true, render: (r) => (r.risk_score === null ? '—' : <span class={r.risk_score > 0.7 ? 'bad' : r.risk_score > 0.3 ? 'warn' : ''}>{num(r.risk_score, 2)}</span>) },
                { key: 'interruptions_30d', label: 'Interruptions (all, 30 d)', numeric: true, render: (r) => num(r.interruptions_30d) },
                { key: 'client_interruptions', label: 'Yours', numeric: true, render: (r) => num(r.client_interruptions) },
                { key: 'hours', label: 'Time spent', numeric: true, render: (r) => hoursText(r.hours) },
                { key: 'share_of_time', label: 'Share', numeric: true, render: (r) => percent(r.share_of_time, { ratio: true }) },
                { key: 'agents_now', label: 'Agents now', numeric: true, render: (r) => num(r.agents_now) },
              ]}
            />
          )}
        </Async>
      </Card>
      <Card title="Failover latency">
        <Async loaded={failover}>
          {(f) => (
            <>
              <div class="stats">
                <Stat testId="failover-count" label="Interruptions" value={num(f.summary.interruptions)} hint={`${num(f.summary.recovered)} recovered, ${num(f.summary.before_deadline)} before the reclaim`} />
                <LatencyStat testId="lat-notice-command" name="Notice → command" l={f.summary.notice_to_command} />
                <LatencyStat testId="lat-command-promotion" name="Command → new primary" l={f.summary.command_to_promotion} />
                <LatencyStat testId="lat-notice-promotion" name="Notice → new primary" l={f.summary.notice_to_promotion} />
                <LatencyStat testId="lat-time-left" name="Time left before reclaim" l={f.summary.time_left_before_reclaim} />
              </div>
              <Table
                caption="Interruptions and their failover"
                rows={f.incidents}
                rowKey={(r) => r.id}
                empty="No interruption in this period."
                columns={[
                  { key: 'notice_at', label: 'Notice', render: (r) => <Time at={r.notice_at} /> },
                  { key: 'agent_id', label: 'Agent', render: (r) => <a href={href('c', cid, 'agents', r.agent_id)}>{r.agent_id.slice(0, 8)}</a> },
                  { key: 'path', label: 'Path', render: (r) => label(r.path) },
                  { key: 'outcome', label: 'Outcome', render: (r) => <Badge value={r.outcome} /> },
                  { key: 'notice_to_command_ms', label: 'To command', numeric: true, render: (r) => duration(r.notice_to_command_ms) },
                  { key: 'command_to_promotion_ms', label: 'Command → primary', numeric: true, render: (r) => duration(r.command_to_promotion_ms) },
                  { key: 'notice_to_promotion_ms', label: 'Total', numeric: true, render: (r) => duration(r.notice_to_promotion_ms) },
                  { key: 'time_left_ms', label: 'Left before reclaim', numeric: true, render: (r) => <span class={r.time_left_ms !== null && r.time_left_ms < 0 ? 'bad' : ''}>{duration(r.time_left_ms)}</span> },
                ]}
              />
            </>
          )}
        </Async>
      </Card>
    </>
  );
}

interface DowntimeData {
  total_switches: number;
  success_rate: number | null;
  total_downtime_seconds: number;
  average_downtime_seconds: number | null;
  p95_downtime_seconds: number | null;
  max_downtime_seconds: number | null;
  downtime_by_trigger: Record<string, { total_seconds: number; count: number }>;
  longest_downtime: { switch_id: string; downtime_seconds: number } | null;
}

function Downtime({ cid }: { cid: string }) {
  const [hours, setHours] = useState('168');
  const d = useApi<DowntimeData>(`/api/client/${cid}/analytics/downtime`, { window_hours: hours }, ['switches']);
  const switches = usePaged<Switch>(`/api/client/${cid}/switch-history`, 'switches', { limit: 25, from: new Date(Date.now() - Number(hours) * 3_600_000).toISOString().slice(0, 13) + ':00:00Z' }, ['switches']);
  const s = (x: number | null) => (x === null ? '—' : duration(x * 1000));
  return (
    <>
      <PageTitle sub="Service interruption while traffic moves to the new instance.">Downtime</PageTitle>
      <div class="toolbar">
        <Select label="Window" value={hours} onChange={setHours} options={[['24', 'Last 24 h'], ['168', 'Last 7 days'], ['720', 'Last 30 days']]} />
      </div>
      <Async loaded={d}>
        {(x) => (
          <>
            <div class="stats">
              <Stat testId="dt-switches" label="Switches" value={num(x.total_switches)} hint={`success rate ${percent(x.success_rate, { ratio: true })}`} />
              <Stat testId="dt-total" label="Total downtime" value={s(x.total_downtime_seconds)} />
              <Stat testId="dt-avg" label="Average" value={s(x.average_downtime_seconds)} hint={`p95 ${s(x.p95_downtime_seconds)}`} />
              <Stat testId="dt-max" label="Longest" value={s(x.max_downtime_seconds)} />
            </div>
            <Card title="By trigger">
              <Table
                caption="Downtime by trigger"
                rows={Object.entries(x.downtime_by_trigger).map(([trigger, v]) => ({ trigger, ...v }))}
                rowKey={(r) => r.trigger}
                empty="No switch in this window."
                columns={[
                  { key: 'trigger', label: 'Trigger', render: (r) => <Badge value={r.trigger} tone="info" /> },
                  { key: 'count', label: 'Switches', numeric: true, render: (r) => num(r.count) },
                  { key: 'total_seconds', label: 'Downtime', numeric: true, render: (r) => s(r.total_seconds) },
                ]}
              />
            </Card>
          </>
        )}
      </Async>
      <Card title="Switches in the window">
        <PagedTable list={switches} caption="Switches" rowKey={(r) => r.id} columns={switchColumns(cid, true)} empty="No switch in this window." />
      </Card>
    </>
  );
}

interface Notification {
  id: string;
  type: string;
  severity: string;
  message: string;
  agent_id: string | null;
  is_read: boolean;
  created_at: string;
}

function Notifications({ cid }: { cid: string }) {
  const { role, toast } = useApp();
  const [unread, setUnread] = useState(false);
  const query = { unread_only: unread, ...(role === 'admin' ? { client_id: cid } : {}) };
  const list = useApi<{ notifications: Notification[]; unread_count: number }>('/api/notifications', query, ['notifications']);
  const act = async (fn: () => Promise<unknown>, ok: string) => {
    try {
      await fn();
      toast(ok);
      list.reload();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  };
  return (
    <>
      <PageTitle sub={list.data ? `${num(list.data.unread_count)} unread` : undefined}>Notifications</PageTitle>
      <div class="toolbar">
        <label class="inline-field">
          <input type="checkbox" checked={unread} onChange={(e) => setUnread(e.currentTarget.checked)} /> <span>Unread only</span>
        </label>
        <button type="button" onClick={() => act(() => api.post('/api/notifications/mark-all-read', role === 'admin' ? { client_id: cid } : {}), 'All notifications marked read')} disabled={!list.data?.unread_count}>
          Mark all read
        </button>
      </div>
      <Card>
        <Async loaded={list}>
          {(l) =>
            l.notifications.length === 0 ? (
              <Empty>{unread ? 'Nothing unread.' : 'No notification yet.'}</Empty>
            ) : (
              <ul class="feed" data-testid="notifications">
                {l.notifications.map((n) => (
                  <li key={n.id} class={n.is_read ? 'read' : 'unread'}>
                    <Badge value={n.severity} />
                    <div class="feed-body">
                      <p>{n.message}</p>
                      <p class="muted small">
                        {label(n.type)} · <Time at={n.created_at} ago />
                        {n.agent_id && (
                          <>
                            {' · '}
                            <a href={href('c', cid, 'agents', n.agent_id)}>agent {n.agent_id.slice(0, 8)}</a>
                          </>
                        )}
                      </p>
                    </div>
                    {!n.is_read && (
                      <button type="button" class="small" onClick={() => act(() => api.post(`/api/notifications/${n.id}/mark-read`), 'Marked read')} aria-label={`Mark read: ${n.message}`}>
                        Mark read
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            )
          }
        </Async>
      </Card>
    </>
  );
}

interface Alert {
  alert_id: string;
  alert_type: string;
  threshold: number;
  pool_id: string | null;
  enabled: boolean;
  notification_channels: string[];
  last_triggered_at: string | null;
  version: number;
}

const ALERT_TYPES: Array<[string, string]> = [
  ['spot_price_above', 'Spot price above (USD/h)'],
  ['spot_price_below', 'Spot price below (USD/h)'],
  ['savings_below_percent', 'Savings below (%)'],
  ['pool_risk_above', 'Pool risk above (0–1)'],
  ['interruption_rate_above', 'Interruptions above (30 d)'],
];

function Alerts({ cid }: { cid: string }) {
  const { toast } = useApp();
  const list = useApi<{ alerts: Alert[] }>(`/api/client/${cid}/pricing-alerts`);
  const [form, setForm] = useState({ alert_type: 'spot_price_above', threshold: '', pool_id: '' });
  const [error, setError] = useState<string | null>(null);
  const save = async (body: Record<string, unknown>, ok: string) => {
    setError(null);
    try {
      await api.post(`/api/client/${cid}/pricing-alerts`, body);
      toast(ok);
      list.reload();
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    }
  };
  const create = async (e: Event) => {
    e.preventDefault();
    const ok = await save({ alert_type: form.alert_type, threshold: Number(form.threshold), ...(form.pool_id ? { pool_id: form.pool_id } : {}), notification_channels: ['dashboard'] }, 'Alert created');
    if (ok) setForm({ ...form, threshold: '', pool_id: '' });
  };
  return (
    <>
      <PageTitle sub="Checked every 15 minutes; each alert fires at most once every 6 hours.">Pricing alerts</PageTitle>
      <Card title="New alert">
        <form class="form-row" onSubmit={create}>
          <Field label="When">
            <select value={form.alert_type} onChange={(e) => setForm({ ...form, alert_type: e.currentTarget.value })}>
              {ALERT_TYPES.map(([v, t]) => (
                <option key={v} value={v}>
                  {t}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Threshold">
            <input type="number" step="any" min="0" required value={form.threshold} onInput={(e) => setForm({ ...form, threshold: e.currentTarget.value })} />
          </Field>
          <Field label="Pool (optional)" hint="e.g. m5.large.us-east-1a">
            <input type="text" value={form.pool_id} onInput={(e) => setForm({ ...form, pool_id: e.currentTarget.value })} />
          </Field>
          <button type="submit" class="primary">
            Create alert
          </button>
        </form>
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
      </Card>
      <Card title="Alerts">
        <Async loaded={list}>
          {(l) => (
            <Table
              caption="Pricing alerts"
              rows={l.alerts}
              rowKey={(a) => a.alert_id}
              empty="No alert yet."
              columns={[
                { key: 'alert_type', label: 'When', value: (a) => label(a.alert_type) },
                { key: 'threshold', label: 'Threshold', numeric: true, render: (a) => num(a.threshold, a.threshold < 1 ? 4 : 2) },
                { key: 'pool_id', label: 'Pool', render: (a) => <span class="mono">{a.pool_id ?? 'any'}</span> },
                { key: 'last_triggered_at', label: 'Last fired', render: (a) => <Time at={a.last_triggered_at} ago /> },
                {
                  key: 'enabled',
                  label: 'Enabled',
                  render: (a) => (
                    <input type="checkbox" checked={a.enabled} aria-label={`Enabled: ${label(a.alert_type)} ${a.threshold}`} onChange={(e) => void save({ alert_id: a.alert_id, version: a.version, alert_type: a.alert_type, threshold: a.threshold, enabled: e.currentTarget.checked, ...(a.pool_id ? { pool_id: a.pool_id } : {}) }, 'Alert saved')} />
                  ),
                },
              ]}
            />
          )}
        </Async>
      </Card>
    </>
  );
}

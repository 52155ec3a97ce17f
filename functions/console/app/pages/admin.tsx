/** The operator console: the installation as a whole (admin token). */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, errorText } from '../api.js';
import { Chart } from '../chart.js';
import { label, num } from '../format.js';
import { useApi, useApp, usePaged } from '../hooks.js';
import { href, type Route } from '../router.js';
import { Async, Badge, Card, Dialog, Empty, Field, Money, PageTitle, Select, Stat, Table, Time, PagedTable } from '../ui.js';
import { type Agent, agentName, type EmergencyEvent } from './client.js';

export const ADMIN_NAV: Array<[string, string]> = [
  ['', 'Overview'],
  ['clients', 'Clients'],
  ['agents', 'Agents'],
  ['instances', 'Instances'],
  ['pools', 'Pools'],
  ['emergencies', 'Emergencies'],
  ['activity', 'Activity'],
  ['engine', 'Engine'],
  ['search', 'Search'],
];

export function AdminPage({ page }: { page: string; route: Route }) {
  switch (page) {
    case '':
      return <AdminOverview />;
    case 'clients':
      return <Clients />;
    case 'agents':
      return <AllAgents />;
    case 'instances':
      return <AllInstances />;
    case 'pools':
      return <Pools />;
    case 'emergencies':
      return <Emergencies />;
    case 'activity':
      return <Activity />;
    case 'engine':
      return <Engine />;
    case 'search':
      return <Search />;
    default:
      return <Empty>This page does not exist.</Empty>;
  }
}

interface Stats {
  total_clients: number;
  agents_online: number;
  agents_total: number;
  instances_active: number;
  pools_covered: number;
  total_savings: number;
  switches: { total: number; manual: number; model: number; emergency: number };
}

interface Health {
  api_status: string;
  database: string;
  decision_engine: string;
  agents: { online: number; offline: number };
  jobs: Array<{ name: string; last_run_at: string | null; last_status: string | null; expected_every_seconds: number; fresh: boolean }>;
  ec2_events_last_received_at: string | null;
  dlq: { configured: boolean; depth: number | null };
}

function AdminOverview() {
  const stats = useApi<Stats>('/api/admin/stats', {}, ['agents', 'switches', 'overview']);
  const health = useApi<Health>('/api/admin/system-health', {}, ['agents']);
  const growth = useApi<{ series: Array<{ date: string; total: number; new: number; active: number }> }>('/api/admin/clients/growth', { days: 30 });
  const data = useMemo(() => {
    const s = growth.data?.series ?? [];
    return [s.map((p) => Date.parse(`${p.date}T00:00:00Z`) / 1000), s.map((p) => p.total), s.map((p) => p.active), s.map((p) => p.new)];
  }, [growth.data]);
  return (
    <>
      <PageTitle sub="The whole installation.">Operator overview</PageTitle>
      <Async loaded={stats}>
        {(s) => (
          <div class="stats">
            <Stat testId="admin-clients" label="Clients" value={num(s.total_clients)} />
            <Stat testId="admin-agents" label="Agents online" value={`${num(s.agents_online)} / ${num(s.agents_total)}`} />
            <Stat testId="admin-instances" label="Active instances" value={num(s.instances_active)} hint={`${num(s.pools_covered)} pools covered`} />
            <Stat testId="admin-savings" label="Saved for clients" value={<Money value={s.total_savings} />} />
            <Stat testId="admin-switches" label="Switches" value={num(s.switches.total)} hint={`${num(s.switches.model)} engine · ${num(s.switches.manual)} manual · ${num(s.switches.emergency)} emergency`} />
          </div>
        )}
      </Async>
      <div class="grid two">
        <Card title="System health">
          <Async loaded={health}>
            {(h) => (
              <>
                <div class="stats tight">
                  <Stat testId="health-api" label="API" value={<Badge value={h.api_status} />} />
                  <Stat label="Database" value={<Badge value={h.database} />} />
                  <Stat testId="health-dlq" label="DLQ depth" value={h.dlq.configured ? num(h.dlq.depth) : 'not configured'} />
                  <Stat label="Last EC2 event" value={<Time at={h.ec2_events_last_received_at} ago />} />
                </div>
                <Table
                  caption="Scheduled jobs"
                  rows={h.jobs}
                  rowKey={(j) => j.name}
                  columns={[
                    { key: 'name', label: 'Job' },
                    { key: 'last_run_at', label: 'Last run', render: (j) => <Time at={j.last_run_at} ago /> },
                    { key: 'last_status', label: 'Status', render: (j) => (j.last_status ? <Badge value={j.last_status} /> : '—') },
                    { key: 'fresh', label: 'Fresh', value: (j) => (j.fresh ? 'yes' : 'stale'), render: (j) => <Badge value={j.fresh ? 'ok' : 'stale'} /> },
                  ]}
                />
              </>
            )}
          </Async>
        </Card>
        <Card title="Client growth (30 days)">
          <Async loaded={growth}>
            {(g) =>
              g.series.length === 0 ? (
                <Empty>No daily snapshot yet.</Empty>
              ) : (
                <Chart
                  title="Clients in total, active and new per day"
                  money={false}
                  data={data}
                  series={[
                    { label: 'Total', color: '#2b6cb0' },
                    { label: 'Active', color: '#2f855a' },
                    { label: 'New', color: '#d69e2e', kind: 'bars' },
                  ]}
                />
              )
            }
          </Async>
        </Card>
      </div>
    </>
  );
}

interface ClientRow {
  id: string;
  name: string;
  email: string | null;
  status: string;
  agents_online: number;
  agents_total: number;
  instances_active: number;
  total_savings: number;
  last_sync_at: string | null;
}

function TokenShown({ token, onClose }: { token: string; onClose: () => void }) {
  const { toast } = useApp();
  return (
    <div data-testid="token-once">
      <p>Copy this token now: it is shown once, and only its hash is kept.</p>
      <p class="token mono">{token}</p>
      <div class="form-actions">
        <button type="button" onClick={() => navigator.clipboard.writeText(token).then(() => toast('Token copied'), () => toast('Copy failed: select the token and copy it', 'error'))}>
          Copy
        </button>
        <button type="button" class="primary" onClick={onClose}>
          Done
        </button>
      </div>
    </div>
  );
}

function Clients() {
  const { toast } = useApp();
  const list = usePaged<ClientRow>('/api/admin/clients', 'clients', { limit: 50 }, ['agents']);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [token, setToken] = useState<{ title: string; value: string } | null>(null);
  const [pending, setPending] = useState<{ kind: 'delete' | 'regenerate'; client: ClientRow } | null>(null);
  const [grace, setGrace] = useState('3600');
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    try {
      const out = await api.post<{ client: { token: string; name: string } }>('/api/admin/clients/create', { name: name.trim(), ...(email.trim() ? { email: email.trim() } : {}) });
      setToken({ title: `Token of ${out.client.name}`, value: out.client.token });
      setName('');
      setEmail('');
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const confirm = async () => {
    if (!pending) return;
    const { kind, client } = pending;
    setPending(null);
    try {
      if (kind === 'delete') {
        const out = await api.delete<{ agents_deleted: number }>(`/api/admin/clients/${client.id}`);
        toast(`${client.name} deleted (${out.agents_deleted} agents)`);
      } else {
        const out = await api.post<{ token: string }>(`/api/admin/clients/${client.id}/regenerate-token`, { grace_period_seconds: Number(grace) });
        setToken({ title: `New token of ${client.name}`, value: out.token });
      }
      list.reload();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  };
  return (
    <>
      <PageTitle>Clients</PageTitle>
      <Card title="New client">
        <form class="form-row" onSubmit={create}>
          <Field label="Name">
            <input name="client_name" required maxLength={100} value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </Field>
          <Field label="Email (optional)">
            <input name="client_email" type="email" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </Field>
          <button type="submit" class="primary">
            Create client
          </button>
        </form>
        {error && (
          <p class="state error" role="alert">
            {error}
          </p>
        )}
      </Card>
      <Card title="All clients">
        <PagedTable
          list={list}
          caption="Clients"
          rowKey={(c) => c.id}
          empty="No client yet: create the first one above."
          columns={[
            { key: 'name', label: 'Client', render: (c) => (c.status === 'deleted' ? c.name : <a href={href('c', c.id)}>{c.name}</a>) },
            { key: 'status', label: 'Status', render: (c) => <Badge value={c.status} /> },
            { key: 'agents_online', label: 'Agents online', numeric: true, render: (c) => `${num(c.agents_online)} / ${num(c.agents_total)}` },
            { key: 'instances_active', label: 'Instances', numeric: true, render: (c) => num(c.instances_active) },
            { key: 'total_savings', label: 'Saved', numeric: true, render: (c) => <Money value={c.total_savings} /> },
            { key: 'last_sync_at', label: 'Last sync', render: (c) => <Time at={c.last_sync_at} ago /> },
            {
              key: 'actions',
              label: 'Actions',
              sortable: false,
              render: (c) =>
                c.status === 'deleted' ? null : (
                  <span class="row-actions">
                    {/* A client being deleted has no token any more; a delete resumes its cascade. */}
                    {c.status === 'deleting' ? null : (
                      <button type="button" class="small" onClick={() => setPending({ kind: 'regenerate', client: c })} aria-label={`New token for ${c.name}`}>
                        New token
                      </button>
                    )}
                    <button type="button" class="small danger" onClick={() => setPending({ kind: 'delete', client: c })} aria-label={`Delete ${c.name}`}>
                      Delete
                    </button>
                  </span>
                ),
            },
          ]}
        />
      </Card>
      <Dialog title={token?.title ?? 'Token'} open={token !== null} onClose={() => setToken(null)}>
        {token && <TokenShown token={token.value} onClose={() => setToken(null)} />}
      </Dialog>
      <Dialog title={pending?.kind === 'delete' ? `Delete ${pending.client.name}?` : `New token for ${pending?.client.name ?? ''}`} open={pending !== null} onClose={() => setPending(null)}>
        {pending?.kind === 'delete' ? (
          <p>The token stops working at once and every agent of this client is deleted (its agents uninstall themselves). Data expires after 30 days.</p>
        ) : (
          <Field label="Old token keeps working for" hint="So running agents can be given the new token first.">
            <select value={grace} onChange={(e) => setGrace(e.currentTarget.value)}>
              <option value="0">No grace: stops now</option>
              <option value="3600">1 hour</option>
              <option value="86400">24 hours</option>
            </select>
          </Field>
        )}
        <div class="form-actions">
          <button type="button" onClick={() => setPending(null)}>
            Cancel
          </button>
          <button type="button" class={pending?.kind === 'delete' ? 'danger' : 'primary'} onClick={confirm}>
            {pending?.kind === 'delete' ? 'Delete client' : 'Regenerate token'}
          </button>
        </div>
      </Dialog>
    </>
  );
}

function useClientOptions(): Array<[string, string]> {
  const clients = useApi<{ clients: ClientRow[] }>('/api/admin/clients', { limit: 200 });
  return [['', 'Any client'], ...(clients.data?.clients ?? []).filter((c) => c.status !== 'deleted').map((c): [string, string] => [c.id, c.name])];
}

type AdminAgent = Agent & { client_name?: string | null };

function AllAgents() {
  const { toast } = useApp();
  const [status, setStatus] = useState('');
  const [client, setClient] = useState('');
  const clients = useClientOptions();
  const list = usePaged<AdminAgent>('/api/admin/agents', 'agents', { status, client_id: client, limit: 50 }, ['agents']);
  const [selected, setSelected] = useState(new Set<string>());
  const [op, setOp] = useState<string | null>(null);
  useEffect(() => setSelected(new Set()), [status, client]);
  const toggle = (id: string) => setSelected((s) => {
    const n = new Set(s);
    if (n.has(id)) n.delete(id);
    else n.add(id);
    return n;
  });
  const toggleAll = (ids: string[]) => setSelected((s) => (ids.every((id) => s.has(id)) ? new Set() : new Set(ids)));
  const run = async () => {
    const operation = op;
    setOp(null);
    if (!operation) return;
    try {
      const out = await api.post<{ succeeded: number; failed: number }>('/api/admin/bulk/execute', { operation, agent_ids: [...selected], confirm: true });
      toast(`${label(operation)}: ${out.succeeded} done, ${out.failed} failed`, out.failed ? 'error' : 'ok');
      setSelected(new Set());
      list.reload();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  };
  return (
    <>
      <PageTitle>All agents</PageTitle>
      <div class="toolbar">
        <Select label="Status" value={status} onChange={setStatus} options={[['', 'Any'], ['online', 'Online'], ['offline', 'Offline'], ['switching', 'Switching'], ['disabled', 'Disabled'], ['error', 'Error'], ['deleted', 'Deleted']]} />
        <Select label="Client" value={client} onChange={setClient} options={clients} />
        <span class="spacer" />
        <span class="muted">{selected.size} selected</span>
        {(['enable_agents', 'disable_agents', 'terminate_zombies', 'delete_agents'] as const).map((o) => (
          <button key={o} type="button" class={`small${o === 'delete_agents' ? ' danger' : ''}`} disabled={selected.size === 0 || selected.size > 100} onClick={() => setOp(o)}>
            {label(o.replace('_agents', ''))}
          </button>
        ))}
      </div>
      <Card>
        <PagedTable
          list={list}
          caption="All agents"
          rowKey={(a) => a.id}
          select={{ selected, toggle, toggleAll }}
          empty="No agent matches."
          columns={[
            { key: 'name', label: 'Agent', value: agentName, render: (a) => <a href={href('c', a.client_id, 'agents', a.id)}>{agentName(a)}</a> },
            { key: 'client_name', label: 'Client', value: (a) => a.client_name ?? a.client_id },
            { key: 'status', label: 'Status', render: (a) => <Badge value={a.status} /> },
            { key: 'last_heartbeat_at', label: 'Heartbeat', render: (a) => <Time at={a.last_heartbeat_at} ago /> },
            { key: 'current_pool_id', label: 'Pool', render: (a) => <span class="mono">{a.current_pool_id ?? '—'}</span> },
            { key: 'current_mode', label: 'Mode', render: (a) => (a.current_mode ? <Badge value={a.current_mode} /> : '—') },
          ]}
        />
      </Card>
      <Dialog title={`${label(op ?? '')} ${selected.size} agents?`} open={op !== null} onClose={() => setOp(null)}>
        <p>{op === 'delete_agents' ? 'Deleted agents uninstall themselves; this cannot be undone.' : 'Applies to every selected agent.'}</p>
        <div class="form-actions">
          <button type="button" onClick={() => setOp(null)}>
            Cancel
          </button>
          <button type="button" class={op === 'delete_agents' ? 'danger' : 'primary'} onClick={run}>
            Confirm
          </button>
        </div>
      </Dialog>
    </>
  );
}

interface AdminInstance {
  id: string;
  client_id: string;
  client_name?: string | null;
  agent_id: string;
  role: string;
  mode: string;
  pool_id: string | null;
  region: string;
  spot_price: number | null;
  ondemand_price: number | null;
  last_seen_at: string | null;
}

function AllInstances() {
  const [status, setStatus] = useState('active');
  const [mode, setMode] = useState('');
  const [region, setRegion] = useState('');
  const [client, setClient] = useState('');
  const clients = useClientOptions();
  const list = usePaged<AdminInstance>('/api/admin/instances', 'instances', { status, mode, region, client_id: client, limit: 50 }, ['instances']);
  return (
    <>
      <PageTitle>All instances</PageTitle>
      <div class="toolbar">
        <Select label="Status" value={status} onChange={setStatus} options={[['active', 'Active'], ['zombie', 'Zombie'], ['terminated', 'Terminated'], ['all', 'All']]} />
        <Select label="Mode" value={mode} onChange={setMode} options={[['', 'Any'], ['spot', 'Spot'], ['ondemand', 'On-demand']]} />
        <Select label="Region" value={region} onChange={setRegion} options={[['', 'Any'], ['us-east-1', 'us-east-1'], ['sa-east-1', 'sa-east-1']]} />
        <Select label="Client" value={client} onChange={setClient} options={clients} />
      </div>
      <Card>
        <PagedTable
          list={list}
          caption="All instances"
          rowKey={(i) => i.id}
          empty="No instance matches."
          columns={[
            { key: 'id', label: 'Instance', render: (i) => <span class="mono">{i.id}</span> },
            { key: 'client_name', label: 'Client', value: (i) => i.client_name ?? i.client_id },
            { key: 'role', label: 'Role', render: (i) => <Badge value={i.role} /> },
            { key: 'mode', label: 'Mode', render: (i) => <Badge value={i.mode} /> },
            { key: 'pool_id', label: 'Pool', render: (i) => <span class="mono">{i.pool_id ?? '—'}</span> },
            { key: 'price', label: 'Price', numeric: true, value: (i) => (i.mode === 'spot' ? i.spot_price : i.ondemand_price), render: (i) => <Money value={i.mode === 'spot' ? i.spot_price : i.ondemand_price} hourly /> },
            { key: 'last_seen_at', label: 'Last seen', render: (i) => <Time at={i.last_seen_at} ago /> },
          ]}
        />
      </Card>
    </>
  );
}

function Pools() {
  const [region, setRegion] = useState('');
  const stats = useApi<{ total_pools: number; active_pools: number; regions: Array<{ region: string; pools: number; average_price: number | null }>; high_risk_pools: Array<{ pool_id: string; risk_score: number }> }>('/api/admin/pools/statistics', { region });
  return (
    <>
      <PageTitle>Pool statistics</PageTitle>
      <div class="toolbar">
        <Select label="Region" value={region} onChange={setRegion} options={[['', 'Any'], ['us-east-1', 'us-east-1'], ['sa-east-1', 'sa-east-1']]} />
      </div>
      <Async loaded={stats}>
        {(s) => (
          <>
            <div class="stats">
              <Stat testId="pools-total" label="Pools known" value={num(s.total_pools)} />
              <Stat testId="pools-active" label="Priced in the last 24 h" value={num(s.active_pools)} />
              <Stat label="High risk (> 0.7)" value={num(s.high_risk_pools.length)} />
            </div>
            <div class="grid two">
              <Card title="By region">
                <Table caption="Pools by region" rows={s.regions} rowKey={(r) => r.region} columns={[{ key: 'region', label: 'Region' }, { key: 'pools', label: 'Pools', numeric: true, render: (r) => num(r.pools) }, { key: 'average_price', label: 'Average price', numeric: true, render: (r) => <Money value={r.average_price} hourly /> }]} />
              </Card>
              <Card title="High-risk pools">
                <Table caption="High-risk pools" rows={s.high_risk_pools} rowKey={(r) => r.pool_id} empty="No pool above 0.7 risk." columns={[{ key: 'pool_id', label: 'Pool', render: (r) => <span class="mono">{r.pool_id}</span> }, { key: 'risk_score', label: 'Risk', numeric: true, render: (r) => num(r.risk_score, 2) }]} />
              </Card>
            </div>
          </>
        )}
      </Async>
    </>
  );
}

function Emergencies() {
  const [signal, setSignal] = useState('');
  const [outcome, setOutcome] = useState('');
  const list = usePaged<EmergencyEvent & { client_id: string }>('/api/admin/emergency-events', 'events', { signal_type: signal, outcome, limit: 50 }, ['emergencies']);
  const summary = (list.data as { summary?: { total: number; by_outcome: Record<string, number>; avg_failover_ms: number | null } } | undefined)?.summary;
  return (
    <>
      <PageTitle>Emergency events</PageTitle>
      <div class="toolbar">
        <Select label="Signal" value={signal} onChange={setSignal} options={[['', 'Any'], ['termination', 'Termination'], ['rebalance', 'Rebalance'], ['instance_terminated', 'Instance terminated']]} />
        <Select label="Outcome" value={outcome} onChange={setOutcome} options={[['', 'Any'], ['open', 'Open'], ['handled', 'Handled'], ['promoted', 'Promoted'], ['no_replica', 'No replica'], ['failed', 'Failed']]} />
      </div>
      {summary && (
        <div class="stats">
          <Stat testId="em-total" label="Events" value={num(summary.total)} />
          <Stat label="Promoted" value={num(summary.by_outcome.promoted ?? 0)} />
          <Stat label="Average failover" value={summary.avg_failover_ms === null ? '—' : `${num(summary.avg_failover_ms)} ms`} />
        </div>
      )}
      <Card>
        <PagedTable
          list={list}
          caption="Emergency events"
          rowKey={(e) => e.id}
          empty="No emergency event."
          columns={[
            { key: 'detected_at', label: 'Detected', render: (e) => <Time at={e.detected_at} /> },
            { key: 'agent_id', label: 'Agent', render: (e) => <a href={href('c', e.client_id, 'agents', e.agent_id)}>{e.agent_id.slice(0, 8)}</a> },
            { key: 'signal_type', label: 'Signal', render: (e) => <Badge value={e.signal_type} /> },
            { key: 'sources', label: 'Sources', value: (e) => e.sources.join(', ') },
            { key: 'outcome', label: 'Outcome', render: (e) => <Badge value={e.outcome} /> },
            { key: 'failover_time_ms', label: 'Failover', numeric: true, render: (e) => (e.failover_time_ms === null ? '—' : `${num(e.failover_time_ms)} ms`) },
          ]}
        />
      </Card>
    </>
  );
}

function Activity() {
  const [type, setType] = useState('');
  const list = usePaged<{ id: string; type: string; severity: string; message: string; client_id: string | null; agent_id: string | null; created_at: string }>('/api/admin/activity', 'events', { type, limit: 50 }, ['notifications', 'agents']);
  return (
    <>
      <PageTitle>Activity</PageTitle>
      <div class="toolbar">
        <label class="inline-field">
          <span>Type</span>
          <input type="search" value={type} placeholder="e.g. agent_offline" onChange={(e) => setType(e.currentTarget.value.trim())} />
        </label>
      </div>
      <Card>
        <PagedTable
          list={list}
          caption="Recent activity"
          rowKey={(e) => e.id}
          empty="Nothing has happened yet."
          columns={[
            { key: 'created_at', label: 'When', render: (e) => <Time at={e.created_at} /> },
            { key: 'severity', label: 'Severity', render: (e) => <Badge value={e.severity} /> },
            { key: 'type', label: 'Type', value: (e) => label(e.type) },
            { key: 'message', label: 'Message', sortable: false, render: (e) => <span class="reason">{e.message}</span> },
            { key: 'client_id', label: 'Client', render: (e) => (e.client_id ? <a href={href('c', e.client_id)}>{e.client_id.slice(0, 8)}</a> : 'system') },
          ]}
        />
      </Card>
    </>
  );
}

interface Upload {
  upload_id: string;
  kind: string;
  status: string;
  name?: string;
  created_at: string;
  activated_at: string | null;
}

function Engine() {
  const { toast } = useApp();
  const list = useApi<{ uploads: Upload[] }>('/api/admin/ml-models/sessions');
  const [name, setName] = useState('');
  const [params, setParams] = useState('{\n  "thresholds": {}\n}');
  const [error, setError] = useState<string | null>(null);
  const act = async (fn: () => Promise<unknown>, ok: string) => {
    try {
      await fn();
      toast(ok);
      list.reload();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  };
  const upload = async (e: Event) => {
    e.preventDefault();
    setError(null);
    let parameters: unknown;
    try {
      parameters = JSON.parse(params);
    } catch {
      setError('The parameters are not valid JSON.');
      return;
    }
    try {
      await api.post('/api/admin/decision-engine/upload', { name: name.trim(), parameters });
      toast('Parameter set uploaded (pending until activated)');
      setName('');
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <>
      <PageTitle sub="JSON parameter sets for the decision engine, validated by its schema; no code is uploaded.">Engine registry</PageTitle>
      <div class="grid two">
        <Card title="Upload a parameter set">
          <form onSubmit={upload} class="settings">
            <Field label="Name">
              <input name="upload_name" required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />
            </Field>
            <Field label="Parameters (JSON)" hint="Omitted fields keep the engine's defaults; unknown keys are refused.">
              <textarea name="parameters" rows={6} class="mono" value={params} onInput={(e) => setParams(e.currentTarget.value)} />
            </Field>
            {error && (
              <p class="state error" role="alert">
                {error}
              </p>
            )}
            <div class="form-actions">
              <button type="submit" class="primary">
                Upload
              </button>
            </div>
          </form>
        </Card>
        <Card title="Active set" actions={<button type="button" onClick={() => act(() => api.post('/api/admin/ml-models/fallback'), 'Fell back to the previous set')}>Fall back</button>}>
          <Async loaded={list}>
            {(l) => {
              const active = l.uploads.find((u) => u.status === 'active');
              return active ? (
                <p>
                  <strong>{active.name ?? active.upload_id}</strong> active since <Time at={active.activated_at} />
                </p>
              ) : (
                <p class="muted">Built-in default parameters (no upload active).</p>
              );
            }}
          </Async>
        </Card>
      </div>
      <Card title="Uploads">
        <Async loaded={list}>
          {(l) => (
            <Table
              caption="Engine uploads"
              rows={l.uploads}
              rowKey={(u) => u.upload_id}
              empty="No upload yet."
              columns={[
                { key: 'name', label: 'Name', value: (u) => u.name ?? u.upload_id },
                { key: 'kind', label: 'Kind' },
                { key: 'status', label: 'Status', render: (u) => <Badge value={u.status} /> },
                { key: 'created_at', label: 'Uploaded', render: (u) => <Time at={u.created_at} /> },
                {
                  key: 'actions',
                  label: 'Actions',
                  sortable: false,
                  render: (u) =>
                    u.status === 'pending' || u.status === 'superseded' || u.status === 'fallback' ? (
                      <button type="button" class="small" onClick={() => act(() => api.post('/api/admin/ml-models/activate', { upload_id: u.upload_id }), 'Activated')}>
                        Activate
                      </button>
                    ) : null,
                },
              ]}
            />
          )}
        </Async>
      </Card>
    </>
  );
}

interface SearchResults {
  results: {
    clients: Array<{ id: string; name: string; status?: string }>;
    agents: Array<{ id: string; client_id: string; logical_agent_id?: string; hostname?: string | null; status?: string }>;
    instances: Array<{ id: string; client_id: string; agent_id: string; role?: string; pool_id?: string | null }>;
  };
}

function Search() {
  const [q, setQ] = useState('');
  const [debounced, setDebounced] = useState('');
  useEffect(() => {
    const t = window.setTimeout(() => setDebounced(q.trim()), 250);
    return () => window.clearTimeout(t);
  }, [q]);
  const found = useApi<SearchResults>(debounced.length >= 2 ? '/api/admin/search' : null, { q: debounced });
  return (
    <>
      <PageTitle sub="Client names, agent ids and hostnames, instance ids: prefix or exact.">Search</PageTitle>
      <label class="field search">
        <span class="field-label">Search</span>
        <input type="search" name="q" autocomplete="off" value={q} onInput={(e) => setQ(e.currentTarget.value)} placeholder="At least 2 characters" />
      </label>
      {debounced.length < 2 ? (
        <Empty>Type at least 2 characters.</Empty>
      ) : (
        <Async loaded={found}>
          {(f) => {
            const { clients, agents, instances } = f.results;
            if (clients.length + agents.length + instances.length === 0) return <Empty>Nothing matches “{debounced}”.</Empty>;
            return (
              <div class="grid three" data-testid="search-results">
                <Card title={`Clients (${clients.length})`}>
                  <ul class="plain">{clients.map((c) => <li key={c.id}><a href={href('c', c.id)}>{c.name}</a></li>)}</ul>
                </Card>
                <Card title={`Agents (${agents.length})`}>
                  <ul class="plain">{agents.map((a) => <li key={a.id}><a href={href('c', a.client_id, 'agents', a.id)}>{a.hostname ?? a.logical_agent_id ?? a.id}</a></li>)}</ul>
                </Card>
                <Card title={`Instances (${instances.length})`}>
                  <ul class="plain">{instances.map((i) => <li key={i.id}><a href={href('c', i.client_id, 'agents', i.agent_id)} class="mono">{i.id}</a> {i.role && <Badge value={i.role} />}</li>)}</ul>
                </Card>
              </div>
            );
          }}
        </Async>
      )}
    </>
  );
}

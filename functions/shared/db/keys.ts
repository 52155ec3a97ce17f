/**
 * Every key string of the single table is built here (README: "Access patterns").
 * Entity prefixes keep item collections self-describing; GSI attributes are generic (GSI1PK…GSI3SK)
 * and overloaded per entity. Sparse GSIs: an item leaves an index by removing its GSI attributes.
 */

type Key = { PK: string; SK: string };

/**
 * Write sharding (README "Access patterns"): a logical index partition that every agent of a fleet
 * writes (all agents, a client's agents, the online agents) is spread over SHARDS partition key
 * values `<base>#S00`…`<base>#S15`, chosen by a stable hash of the agent's id; readers Query every
 * shard in parallel (db/sharded.ts) and merge on the shared sort key.
 */
export const SHARDS = 16;
/** Matches the shard suffix of a sharded partition key (the capacity bench folds shards back together). */
export const SHARD_SUFFIX = /#S\d{2}$/;

/** The shard of an id: FNV-1a (32 bit) of its UTF-16 code units, modulo `shards`, two digits. */
export function shardOf(id: string, shards = SHARDS): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return String(h % shards).padStart(2, '0');
}

const shardKey = (base: string, id: string): string => `${base}#S${shardOf(id)}`;
/** Every shard of a logical partition, in shard order. */
export const shardKeys = (base: string): string[] => Array.from({ length: SHARDS }, (_, i) => `${base}#S${String(i).padStart(2, '0')}`);

/** Zero-padded so that lexical order = numeric order (priority 100 sorts first as "000"). */
export const padPriorityDesc = (priority: number): string => String(1000 - priority).padStart(4, '0');

export const keys = {
  // ---- clients and tokens ----
  client: (clientId: string): Key => ({ PK: `CLIENT#${clientId}`, SK: 'CLIENT' }),
  /** GSI1: all clients, oldest first (admin list). */
  clientsIndex: (createdAt: string, clientId: string) => ({ GSI1PK: 'CLIENTS', GSI1SK: `${createdAt}#${clientId}` }),
  /** Uniqueness guard for client names (case-insensitive). */
  clientName: (name: string): Key => ({ PK: `CLIENTNAME#${name.trim().toLowerCase()}`, SK: 'CLIENTNAME' }),
  /** Token items are keyed by the SHA-256 of the token: the token itself is never stored. */
  token: (tokenHash: string): Key => ({ PK: `TOKEN#${tokenHash}`, SK: 'TOKEN' }),

  // ---- agents ----
  agent: (agentId: string): Key => ({ PK: `AGENT#${agentId}`, SK: 'AGENT' }),
  /**
   * The agent's small, fast-changing item (heartbeat telemetry, the savings watermark, and a copy of
   * the fields the heartbeat decides on): in no index, so a heartbeat writes 1 unit and no index.
   * Its sort key begins with `AGENT`, so one Query (`begins_with(SK, 'AGENT')`) reads both items.
   */
  agentLive: (agentId: string): Key => ({ PK: `AGENT#${agentId}`, SK: 'AGENT#LIVE' }),
  /** Sort-key prefix shared by the agent item and its live item (one strongly consistent Query). */
  agentItemsPrefix: 'AGENT',
  /** GSI1 (sharded): a client's agents (live and deleted), oldest first. */
  agentsOfClientIndex: (clientId: string, createdAt: string, agentId: string) => ({
    GSI1PK: shardKey(`CLIENT#${clientId}#AGENTS`, agentId),
    GSI1SK: `${createdAt}#${agentId}`,
  }),
  agentsOfClientShards: (clientId: string): string[] => shardKeys(`CLIENT#${clientId}#AGENTS`),
  /** GSI2 (sharded): every agent of the installation (admin list), oldest first. */
  allAgentsIndex: (createdAt: string, agentId: string) => ({ GSI2PK: shardKey('AGENTS', agentId), GSI2SK: `${createdAt}#${agentId}` }),
  allAgentsShards: (): string[] => shardKeys('AGENTS'),
  /**
   * GSI3 (sparse, sharded): the agents the stale-agent job watches (status online or switching).
   * Membership changes only with the status, never with a heartbeat: the job reads each member's
   * live item for its last heartbeat.
   */
  onlineAgentsIndex: (agentId: string) => ({ GSI3PK: shardKey('AGENTS#ONLINE', agentId), GSI3SK: agentId }),
  onlineAgentsShards: (): string[] => shardKeys('AGENTS#ONLINE'),
  /** Guard item: the one live agent of (client, logical_agent_id). Deleted with the agent. */
  logicalAgent: (clientId: string, logicalAgentId: string): Key => ({
    PK: `LOGICAL#${clientId}#${logicalAgentId}`,
    SK: 'LOGICAL',
  }),

  // ---- instances (EC2 id is the key: instance → agent is one GetItem) ----
  instance: (instanceId: string): Key => ({ PK: `INSTANCE#${instanceId}`, SK: 'INSTANCE' }),
  /**
   * The instance's telemetry item (`last_seen_at` of heartbeats and reports, accrued savings): in no
   * index, so periodic telemetry never rewrites the instance's three index entries. The instance
   * views read it with the instance (BatchGetItem).
   */
  instanceLive: (instanceId: string): Key => ({ PK: `INSTANCE#${instanceId}`, SK: 'INSTANCE#LIVE' }),
  /** GSI1: an agent's instances by role (`PRIMARY#…`, `ZOMBIE#…`). */
  instancesOfAgentIndex: (agentId: string, role: string, instanceId: string) => ({
    GSI1PK: `AGENT#${agentId}#INSTANCES`,
    GSI1SK: `${role}#${instanceId}`,
  }),
  /** GSI2: a client's instances, newest activity irrelevant: ordered by creation. */
  instancesOfClientIndex: (clientId: string, createdAt: string, instanceId: string) => ({
    GSI2PK: `CLIENT#${clientId}#INSTANCES`,
    GSI2SK: `${createdAt}#${instanceId}`,
  }),
  /**
   * GSI3: every instance, partitioned by role (`INSTANCES#PRIMARY` …), oldest first. The admin list
   * reads the partitions of the requested status, admin stats count PRIMARY + REPLICA, and
   * zombie-cleanup reads only `INSTANCES#ZOMBIE`. The partition moves with the role: every role
   * change must SET all attributes of instances-repo `roleChange()` (GSI1SK and GSI3PK).
   */
  allInstancesIndex: (role: string, createdAt: string, instanceId: string) => ({
    GSI3PK: `INSTANCES#${role}`,
    GSI3SK: `${createdAt}#${instanceId}`,
  }),
  /** Lifecycle log of an instance, newest last. */
  instanceLog: (instanceId: string, at: string, id: string): Key => ({
    PK: `INSTANCE#${instanceId}`,
    SK: `LOG#${at}#${id}`,
  }),

  // ---- replicas (an agent's item collection) ----
  replica: (agentId: string, replicaId: string): Key => ({ PK: `AGENT#${agentId}`, SK: `REPLICA#${replicaId}` }),
  replicaPrefix: 'REPLICA#',
  /** GSI2 (sparse, while a placeholder waits to be launched): the reconciler finds stuck placeholders. */
  launchingReplicasIndex: (createdAt: string, agentId: string, replicaId: string) => ({
    GSI2PK: 'REPLICAS#LAUNCHING',
    GSI2SK: `${createdAt}#${agentId}#${replicaId}`,
  }),
  /** GSI2 (sparse, while a termination is unconfirmed): the reconciler confirms them after 24 h. */
  unconfirmedReplicasIndex: (terminatedAt: string, agentId: string, replicaId: string) => ({
    GSI2PK: 'REPLICAS#UNCONFIRMED',
    GSI2SK: `${terminatedAt}#${agentId}#${replicaId}`,
  }),

  // ---- emergency incidents (API.md §3.0 EmergencyEvent, §5) ----
  /** The incident itself, by id (kept 30 days). */
  incident: (incidentId: string): Key => ({ PK: `INCIDENT#${incidentId}`, SK: 'INCIDENT' }),
  /**
   * Signal guard: at most one incident per (instance, signal). Created with the incident in one
   * transaction (`attribute_not_exists`); for `rebalance` it may be re-taken once 2 h have passed.
   */
  signalGuard: (instanceId: string, signal: string): Key => ({ PK: `SIGNAL#${instanceId}#${signal}`, SK: 'SIGNAL' }),
  /** GSI1: an agent's incidents by detection time (last event = newest first, limit 1). */
  incidentsOfAgentIndex: (agentId: string, detectedAt: string, incidentId: string) => ({
    GSI1PK: `AGENT#${agentId}#INCIDENTS`,
    GSI1SK: `${detectedAt}#${incidentId}`,
  }),
  /** GSI2: every incident by detection time (admin emergency-events, `since` = key range). */
  allIncidentsIndex: (detectedAt: string, incidentId: string) => ({
    GSI2PK: 'INCIDENTS',
    GSI2SK: `${detectedAt}#${incidentId}`,
  }),
  /** GSI3: a client's incidents by detection time (admin emergency-events with client_id). */
  incidentsOfClientIndex: (clientId: string, detectedAt: string, incidentId: string) => ({
    GSI3PK: `CLIENT#${clientId}#INCIDENTS`,
    GSI3SK: `${detectedAt}#${incidentId}`,
  }),
  /** Work item while an incident is unresolved (awaiting a replica, or not handled yet): the reconciler's queue. */
  openIncident: (incidentId: string): Key => ({ PK: 'INCIDENTS#OPEN', SK: incidentId }),
  /** EventBridge event-id dedupe record (kept 7 days). */
  eventDedupe: (eventId: string): Key => ({ PK: `EVENT#${eventId}`, SK: 'EVENT' }),

  // ---- commands ----
  command: (agentId: string, commandId: string): Key => ({ PK: `AGENT#${agentId}`, SK: `COMMAND#${commandId}` }),
  commandPrefix: 'COMMAND#',
  /** GSI1 (sparse, while pending): priority desc, then oldest first — exactly pending-commands' order. */
  pendingCommandIndex: (agentId: string, priority: number, createdAt: string, commandId: string) => ({
    GSI1PK: `AGENT#${agentId}#PENDING`,
    GSI1SK: `${padPriorityDesc(priority)}#${createdAt}#${commandId}`,
  }),
  /** GSI2 (sparse, while not final): open commands by expiry time, for the command-expiry job. */
  openCommandIndex: (expiresAt: string, commandId: string) => ({
    GSI2PK: 'COMMANDS#OPEN',
    GSI2SK: `${expiresAt}#${commandId}`,
  }),

  // ---- idempotency ----
  idempotency: (scopeHash: string): Key => ({ PK: `IDEMP#${scopeHash}`, SK: 'IDEMP' }),

  // ---- notifications ----
  notification: (notificationId: string): Key => ({ PK: `NOTIF#${notificationId}`, SK: 'NOTIF' }),
  /** GSI1: a client's notifications (`SYSTEM` for system-wide), newest last. */
  notificationsOfClientIndex: (clientId: string | null, createdAt: string, notificationId: string) => ({
    GSI1PK: `CLIENT#${clientId ?? 'SYSTEM'}#NOTIFS`,
    GSI1SK: `${createdAt}#${notificationId}`,
  }),
  /** GSI2 (sparse, while unread). */
  unreadNotificationsIndex: (clientId: string | null, createdAt: string, notificationId: string) => ({
    GSI2PK: `CLIENT#${clientId ?? 'SYSTEM'}#UNREAD`,
    GSI2SK: `${createdAt}#${notificationId}`,
  }),

  // ---- reports (natural-key dedupe) ----
  pricingReport: (agentId: string, collectedAt: string): Key => ({
    PK: `AGENT#${agentId}`,
    SK: `PRICEREPORT#${collectedAt}`,
  }),
  cleanupReport: (agentId: string, timestamp: string): Key => ({
    PK: `AGENT#${agentId}`,
    SK: `CLEANUP#${timestamp}`,
  }),

  // ---- pricing pipeline ----
  /** Staging: one point per pool per report, tagged with the reporter's role. */
  stagedPrice: (poolId: string, collectedAt: string, reporterInstanceId: string): Key => ({
    PK: `STAGE#${poolId}`,
    SK: `${collectedAt}#${reporterInstanceId}`,
  }),
  /** GSI1 on staged points: all pools' staging by time, so consolidation can find what arrived in its window. */
  stagedPriceByTimeIndex: (day: string, collectedAt: string, poolId: string) => ({
    GSI1PK: `STAGE#DAY#${day}`,
    GSI1SK: `${collectedAt}#${poolId}`,
  }),
  consolidatedPrice: (poolId: string, bucketStart: string): Key => ({ PK: `PRICE5M#${poolId}`, SK: bucketStart }),
  canonicalPrice: (poolId: string, hourStart: string): Key => ({ PK: `PRICEH#${poolId}`, SK: hourStart }),
  pool: (poolId: string): Key => ({ PK: `POOL#${poolId}`, SK: 'POOL' }),
  /** GSI1: the pools of one instance type in one region (decision candidates). */
  poolsOfTypeIndex: (region: string, instanceType: string, poolId: string) => ({
    GSI1PK: `POOLS#${region}#${instanceType}`,
    GSI1SK: poolId,
  }),
  /** GSI2: all pools (admin pool statistics). */
  allPoolsIndex: (region: string, poolId: string) => ({ GSI2PK: 'POOLS', GSI2SK: `${region}#${poolId}` }),
  /** (region, instance type) pairs an agent runs but the market job has not priced yet (market watch list). */
  marketWatch: (region: string, instanceType: string): Key => ({ PK: 'MARKET#WATCH', SK: `${region}#${instanceType}` }),
  /** ConsolidationJob records (admin consolidation-jobs route), newest last by start time. */
  consolidationRun: (startedAt: string, runId: string): Key => ({
    PK: 'CONSOLIDATION',
    SK: `RUN#${startedAt}#${runId}`,
  }),
  /** The end of the last scheduled/manual window: the next run starts 1 h before it (API.md §6). */
  consolidationWatermark: (): Key => ({ PK: 'CONSOLIDATION', SK: 'WATERMARK' }),
  /** GSI1: ConsolidationJob records by status (`running|ok|failed`), for the status filter and the last window. */
  consolidationRunsByStatusIndex: (status: string, startedAt: string, runId: string) => ({
    GSI1PK: `CONSOLIDATION#${status}`,
    GSI1SK: `${startedAt}#${runId}`,
  }),

  // ---- events feed (API.md §3.13: retained 24 h) ----
  /** One feed per client (and `ALL` for the admin); sort key is time-ordered and unique, so it is the cursor. */
  feedEvent: (clientId: string | null, cursor: string): Key => ({ PK: `FEED#${clientId ?? 'ALL'}`, SK: cursor }),

  // ---- decisions (API.md §3.9; an agent's item collection, kept 30 days by TTL) ----
  /** One stored decision; the sort key is time-ordered, so "newest N" is one reverse Query. */
  decision: (agentId: string, at: string, decisionId: string): Key => ({
    PK: `AGENT#${agentId}`,
    SK: `DECISION#${at}#${decisionId}`,
  }),
  decisionPrefix: 'DECISION#',

  // ---- switches (API.md §3.10; an agent's item collection, time-ordered by initiated_at) ----
  switch: (agentId: string, initiatedAt: string, switchId: string): Key => ({
    PK: `AGENT#${agentId}`,
    SK: `SWITCH#${initiatedAt}#${switchId}`,
  }),
  switchPrefix: 'SWITCH#',
  /** Natural-key guard of switch-report (agent + new instance id): holds the switch's id. */
  switchNaturalKey: (agentId: string, newInstanceId: string): Key => ({
    PK: `AGENT#${agentId}`,
    SK: `SWITCHNK#${newInstanceId}`,
  }),
  /** GSI1: a client's switch history, by initiated_at (read newest first). */
  switchesOfClientIndex: (clientId: string, initiatedAt: string, switchId: string) => ({
    GSI1PK: `CLIENT#${clientId}#SWITCHES`,
    GSI1SK: `${initiatedAt}#${switchId}`,
  }),
  /** Installation-wide switch counters (admin stats), ADDed in the switch-report transaction. */
  switchCounters: (): Key => ({ PK: 'STATS#SWITCHES', SK: 'ALL' }),

  // ---- decision-engine registry (API.md §3.9): JSON parameter bundles, never code ----
  upload: (uploadId: string): Key => ({ PK: `UPLOAD#${uploadId}`, SK: 'UPLOAD' }),
  /** GSI1: all uploads, by creation time. */
  uploadsIndex: (createdAt: string, uploadId: string) => ({ GSI1PK: 'UPLOADS', GSI1SK: `${createdAt}#${uploadId}` }),
  /** The one pointer to the active (and fallback) upload; every activation is conditioned on it. */
  enginePointer: (): Key => ({ PK: 'ENGINE', SK: 'ACTIVE' }),

  // ---- savings ledger (API.md §6 daily-savings-snapshot) ----
  /** Live per-client day bucket, ADDed by every accrual (the snapshot job reads it). */
  clientLedgerDay: (clientId: string, day: string): Key => ({ PK: `CLIENT#${clientId}`, SK: `LEDGER#${day}` }),
  /** Live per-agent day bucket (agent statistics). */
  agentLedgerDay: (agentId: string, day: string): Key => ({ PK: `AGENT#${agentId}`, SK: `LEDGER#${day}` }),
  ledgerPrefix: 'LEDGER#',
  /** Frozen daily snapshot (daily-savings-snapshot); its creation is the "added to total_savings once" guard. */
  savingsSnapshot: (clientId: string, day: string): Key => ({ PK: `CLIENT#${clientId}`, SK: `SAVINGS#${day}` }),
  savingsSnapshotPrefix: 'SAVINGS#',
  /** Client growth counts of one day (admin growth route). */
  growthDay: (day: string): Key => ({ PK: 'GROWTH', SK: day }),

  // ---- admin: search index, activity, counters, meta (API.md §3.3) ----
  /**
   * Search index entry (admin search, no Scan): one item per searchable name, partitioned by the
   * name's first two lower-cased characters (search needs at least 2), sorted by the lower-cased
   * name so a prefix is one `begins_with` Query. `kind` = client | agent | instance. Entries are
   * never updated: a rename adds a new entry, and readers drop hits whose entity no longer matches.
   */
  searchEntry: (kind: string, name: string, id: string): Key => {
    const lower = name.trim().toLowerCase();
    return { PK: `SEARCH#${kind}#${lower.slice(0, 2)}`, SK: `${lower}#${id}` };
  },
  /** GSI3 of notifications: every notification of every client, newest last (admin activity). */
  activityIndex: (createdAt: string, notificationId: string) => ({
    GSI3PK: 'ACTIVITY',
    GSI3SK: `${createdAt}#${notificationId}`,
  }),
  /** Hourly operational counters (switches, failed switches, downtime histogram), `hour` = `YYYY-MM-DDTHH`; kept 8 days. */
  statsHour: (hour: string): Key => ({ PK: 'STATS#HOURLY', SK: hour }),
  /** Last time the ec2-events consumer received an event (system-health). */
  ec2EventsMeta: (): Key => ({ PK: 'META#EC2EVENTS', SK: 'META' }),

  // ---- pricing alerts (a client's item collection) ----
  pricingAlert: (clientId: string, alertId: string): Key => ({ PK: `CLIENT#${clientId}`, SK: `ALERT#${alertId}` }),
  pricingAlertPrefix: 'ALERT#',
  /** GSI1 (sparse, while enabled): every enabled alert, for the pool-risk job's evaluation. */
  enabledAlertsIndex: (clientId: string, alertId: string) => ({
    GSI1PK: 'ALERTS#ENABLED',
    GSI1SK: `${clientId}#${alertId}`,
  }),

  // ---- jobs ----
  jobLease: (jobName: string): Key => ({ PK: `JOB#${jobName}`, SK: 'LEASE' }),
  jobRun: (jobName: string, startedAt: string, runId: string): Key => ({
    PK: `JOB#${jobName}`,
    SK: `RUN#${startedAt}#${runId}`,
  }),
} as const;

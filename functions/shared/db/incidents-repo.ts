import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ttlAfterDays } from '../domain/ids.js';
import {
  EVENT_DEDUPE_TTL_DAYS,
  HANDLING_LEASE_SECONDS,
  INCIDENT_TTL_DAYS,
  type Incident,
  type IncidentSource,
  FINAL_OUTCOMES,
  REBALANCE_WINDOW_SECONDS,
  type SignalType,
} from '../domain/incidents.js';
import { ddb, tableName } from './client.js';
import { getItem, isConditionFailure, type Item, oldItemOf, queryAll, queryPage, stripKeys, txDelete, txPut, txUpdate, where } from './conditions.js';
import { keys } from './keys.js';
import { TransactionConflict, transact, type TxPart, txPart } from './transaction.js';

/**
 * Incidents (API.md EmergencyEvent), their per-(instance, signal) guard, the reconciler's open
 * work items and the EventBridge event-id dedupe records.
 *
 * Access patterns:
 * - guard `SIGNAL#<iid>#<signal>` → incident id (GetItem), created once by a conditional write;
 * - incident `INCIDENT#<id>` (GetItem);
 * - an agent's incidents newest first (GSI1 `AGENT#<aid>#INCIDENTS`), all incidents (GSI2
 *   `INCIDENTS`), a client's incidents (GSI3 `CLIENT#<cid>#INCIDENTS`), all sorted by detected_at;
 * - unresolved incidents (`INCIDENTS#OPEN` partition: one small item per open incident; emergencies
 *   are rare, so one partition is fine);
 * - event-id records `EVENT#<id>`.
 */

const toIncident = (item: Item): Incident => {
  const raw = stripKeys(item) as Record<string, unknown>;
  const asArray = (v: unknown): string[] => (v instanceof Set ? [...v] : Array.isArray(v) ? v : []) as string[];
  return {
    ...(raw as unknown as Incident),
    deadline: (raw.deadline as string | undefined) ?? null,
    sources: asArray(raw.sources) as IncidentSource[],
    event_ids: asArray(raw.event_ids),
  };
};

/** The reconciler's work item for an unresolved incident (awaiting a replica, or not handled yet). */
const openIncidentItem = (incident: Incident, at: string) => ({
  ...keys.openIncident(incident.id),
  entity: 'open-incident',
  incident_id: incident.id,
  agent_id: incident.agent_id,
  instance_id: incident.instance_id,
  signal_type: incident.signal_type,
  opened_at: at,
  deadline: incident.deadline,
});

const incidentItem = (incident: Incident) => ({
  ...keys.incident(incident.id),
  ...keys.incidentsOfAgentIndex(incident.agent_id, incident.detected_at, incident.id),
  ...keys.allIncidentsIndex(incident.detected_at, incident.id),
  ...keys.incidentsOfClientIndex(incident.client_id, incident.detected_at, incident.id),
  entity: 'incident',
  ...incident,
  // String sets: adding a source or an event id twice is a no-op (ADD), whatever the order of reports.
  sources: new Set(incident.sources),
  // Absent rather than null while unknown, so a later report can fill it with if_not_exists.
  deadline: incident.deadline ?? undefined,
  ...(incident.event_ids.length > 0 ? { event_ids: new Set(incident.event_ids) } : { event_ids: undefined }),
  ttl: ttlAfterDays(new Date(incident.created_at), INCIDENT_TTL_DAYS),
});

export interface AttachInput {
  source: IncidentSource;
  eventId?: string | null;
  deadline?: string | null;
}

export interface ResolveFields {
  outcome?: Incident['outcome'];
  action_taken?: string | null;
  replica_id?: string | null;
  command_id?: string | null;
  awaiting_replica_id?: string | null;
  failover_time_ms?: number | null;
  resolved_at?: string | null;
  target_pool_id?: string | null;
  target_mode?: Incident['target_mode'];
  new_instance_id?: string | null;
  risk_score?: number | null;
  message?: string | null;
  handled_at?: string | null;
  handling_lease_until?: string | null;
}

export const incidentsRepo = {
  async get(incidentId: string): Promise<Incident | undefined> {
    const item = await getItem(keys.incident(incidentId));
    return item ? toIncident(item) : undefined;
  },

  /**
   * Opens the incident of (instance, signal), or finds the one already open. The guard, the
   * incident and its open work item are written in ONE transaction conditioned on the guard being
   * absent (or, for `rebalance`, older than 2 h): whatever the order, concurrency and number of
   * reports, exactly one caller gets `created: true` — that caller handles the incident. The
   * others add their source (and event id) to it.
   */
  async openOrAttach(incident: Incident, attach: AttachInput, now: Date): Promise<{ created: boolean; incident: Incident }> {
    const at = now.toISOString();
    const cutoff = new Date(now.getTime() - REBALANCE_WINDOW_SECONDS * 1000).toISOString();
    const guardKey = keys.signalGuard(incident.instance_id, incident.signal_type);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await transact([
          txPart(
            'signal-guard',
            txPut(
              {
                ...guardKey,
                entity: 'signal-guard',
                incident_id: incident.id,
                agent_id: incident.agent_id,
                opened_at: at,
                ttl: ttlAfterDays(now, incident.signal_type === 'rebalance' ? EVENT_DEDUPE_TTL_DAYS : INCIDENT_TTL_DAYS),
              },
              // A rebalance guard may be re-taken once its 2 h window has passed.
              { condition: where.or(where.absent('PK'), incident.signal_type === 'rebalance' && where.le('opened_at', cutoff)) },
            ),
          ),
          txPart('incident', txPut(incidentItem(incident))),
          txPart('open-incident', txPut(openIncidentItem(incident, at), { overwrite: true })),
        ]);
        return { created: true, incident };
      } catch (err) {
        if (!(err instanceof TransactionConflict)) throw err;
        if (err.contended.length > 0) {
          // Another report's transaction on the same guard is in progress: try again shortly.
          await new Promise((r) => setTimeout(r, 20 + Math.random() * 30));
          continue;
        }
        if (!err.failedOn('signal-guard')) throw err;
      }
      const guard = await getItem<{ incident_id: string }>(guardKey);
      if (!guard) continue; // expired between our write and our read: try to open again
      const attached = await this.attach(guard.incident_id, attach);
      if (attached) return { created: false, incident: attached };
    }
    throw new Error(`could not open or attach the ${incident.signal_type} incident of ${incident.instance_id}`);
  },

  /** Adds a report's source (and event id) to an incident; sets the deadline if it had none. */
  async attach(incidentId: string, input: AttachInput): Promise<Incident | undefined> {
    const values: Item = { ':src': new Set([input.source]), ':one': 1 };
    let update = 'ADD sources :src, reports :one';
    if (input.eventId) {
      update += ', event_ids :eid';
      values[':eid'] = new Set([input.eventId]);
    }
    if (input.deadline) {
      update += ' SET deadline = if_not_exists(deadline, :dl)';
      values[':dl'] = input.deadline;
    }
    try {
      const out = await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.incident(incidentId),
          UpdateExpression: update,
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toIncident(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /**
   * Takes over the handling of an incident nobody handled (its first handler crashed or timed
   * out): succeeds only when it is unhandled and its lease has expired.
   */
  async claimHandling(incidentId: string, now: Date): Promise<Incident | undefined> {
    try {
      const out = await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.incident(incidentId),
          UpdateExpression: 'SET handling_lease_until = :until',
          ConditionExpression:
            'attribute_exists(PK) AND (attribute_not_exists(handled_at) OR handled_at = :null) AND (attribute_not_exists(handling_lease_until) OR handling_lease_until = :null OR handling_lease_until < :now)',
          ExpressionAttributeValues: {
            ':until': new Date(now.getTime() + HANDLING_LEASE_SECONDS * 1000).toISOString(),
            ':now': now.toISOString(),
            ':null': null,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toIncident(out.Attributes ?? {});
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  },

  /**
   * Transaction part recording what was done. `firstHandling`: only if nobody handled it yet (the
   * effects in the same transaction then apply exactly once); otherwise only while the incident is
   * still unresolved (open or handled).
   */
  resolveTx(incidentId: string, fields: ResolveFields, options: { firstHandling: boolean }, part = 'incident'): TxPart {
    return txPart(
      part,
      txUpdate(keys.incident(incidentId), {
        set: { ...fields },
        condition: options.firstHandling ? where.empty('handled_at') : where.in('outcome', ['open', 'handled']),
      }),
    );
  },

  /**
   * Transaction part: an emergency replica for this incident (at most one per notice, API.md §4.4),
   * conditioned on the incident having none yet; while it is unresolved it now waits for it.
   */
  claimReplicaTx(incident: Incident, replicaId: string, part = 'incident'): TxPart {
    const stillOpen = !FINAL_OUTCOMES.has(incident.outcome);
    return txPart(
      part,
      txUpdate(keys.incident(incident.id), {
        set: { replica_id: replicaId, ...(stillOpen ? { awaiting_replica_id: replicaId } : {}) },
        mustExist: false,
        condition: where.and(where.empty('replica_id'), stillOpen && where.in('outcome', ['open', 'handled'])),
      }),
    );
  },

  /** Transaction part removing the incident's open work item (it is resolved). */
  closeTx(incidentId: string): TxPart {
    return txPart('open-incident', txDelete(keys.openIncident(incidentId)));
  },

  /** Transaction part (re)queuing the incident on the reconciler's open work items. */
  reopenTx(incident: Incident, at: string): TxPart {
    return txPart('open-incident', txPut(openIncidentItem(incident, at), { overwrite: true }));
  },

  /** The open incident work items (the reconciler's queue), oldest first. */
  async listOpen(limit = 500): Promise<{ incident_id: string; agent_id: string; opened_at: string }[]> {
    return queryAll(
      {
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.openIncident('').PK },
      },
      limit,
    );
  },

  async close(incidentId: string): Promise<void> {
    await ddb.send(new DeleteCommand({ TableName: tableName(), Key: keys.openIncident(incidentId) }));
  },

  /** The newest incident of an agent (GSI1, one item). */
  async lastOfAgent(agentId: string): Promise<Incident | undefined> {
    const out = await ddb.send(
      new QueryCommand({
        TableName: tableName(),
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.incidentsOfAgentIndex(agentId, '', '').GSI1PK },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    const item = out.Items?.[0];
    return item ? toIncident(item) : undefined;
  },

  /** An agent's incidents, newest first (GSI1). */
  async listByAgent(agentId: string, limit = 1000): Promise<Incident[]> {
    const items = await queryAll<Item>(
      {
        IndexName: 'GSI1',
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': keys.incidentsOfAgentIndex(agentId, '', '').GSI1PK },
        ScanIndexForward: false,
      },
      limit,
    );
    return items.map(toIncident);
  },

  /** The incident open for (instance, signal), through its guard. */
  async findBySignal(instanceId: string, signal: SignalType): Promise<Incident | undefined> {
    const guard = await getItem<{ incident_id: string }>(keys.signalGuard(instanceId, signal));
    return guard ? this.get(guard.incident_id) : undefined;
  },

  /**
   * Incidents for the admin view, newest first: one client's (GSI3) or everyone's (GSI2), from
   * `since` on; signal and outcome are filters.
   */
  async listForAdmin(
    query: { clientId?: string; since?: string; signal?: string; outcome?: string },
    page: { limit: number; nextToken?: string } | 'all',
  ): Promise<{ items: Incident[]; nextToken: string | null }> {
    const index = query.clientId ? 'GSI3' : 'GSI2';
    const pk = query.clientId ? keys.incidentsOfClientIndex(query.clientId, '', '').GSI3PK : 'INCIDENTS';
    const names: Record<string, string> = {};
    const values: Item = { ':pk': pk };
    let keyCondition = `${index}PK = :pk`;
    if (query.since) {
      keyCondition += ` AND ${index}SK >= :since`;
      values[':since'] = query.since;
    }
    const filters: string[] = [];
    if (query.signal) {
      filters.push('signal_type = :signal');
      values[':signal'] = query.signal;
    }
    if (query.outcome) {
      filters.push('#outcome = :outcome');
      names['#outcome'] = 'outcome';
      values[':outcome'] = query.outcome;
    }
    const input = {
      IndexName: index,
      KeyConditionExpression: keyCondition,
      ExpressionAttributeValues: values,
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
      ScanIndexForward: false,
    };
    if (page === 'all') {
      const items = await queryAll<Item>(input, 10_000);
      return { items: items.map(toIncident), nextToken: null };
    }
    const out = await queryPage<Item>(input, page.limit, page.nextToken);
    return { items: out.items.map(toIncident), nextToken: out.nextToken };
  },

  // ---- EventBridge event-id dedupe (API.md §5 step 1: conditional put, kept 7 days) ----

  /**
   * Claims an event id: `claimed` when this invocation should process the event; `done` when it
   * was processed (a duplicate delivery); `in-progress` when another invocation holds a live claim —
   * which may still crash, so that delivery must not count as processed. An expired claim (the
   * first invocation crashed) is re-claimed, so a retry is never lost.
   */
  async claimEvent(eventId: string, now: Date, leaseSeconds: number): Promise<'claimed' | 'done' | 'in-progress'> {
    try {
      await ddb.send(
        new PutCommand({
          TableName: tableName(),
          Item: {
            ...keys.eventDedupe(eventId),
            entity: 'event-dedupe',
            status: 'processing',
            lease_until: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
            received_at: now.toISOString(),
            ttl: ttlAfterDays(now, EVENT_DEDUPE_TTL_DAYS),
          },
          ConditionExpression: 'attribute_not_exists(PK) OR (#status = :processing AND lease_until < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':processing': 'processing', ':now': now.toISOString() },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'claimed';
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      return oldItemOf(err)?.status === 'processing' ? 'in-progress' : 'done';
    }
  },

  async finishEvent(eventId: string, summary: Record<string, unknown>): Promise<void> {
    await ddb.send(
      new UpdateCommand({
        TableName: tableName(),
        Key: keys.eventDedupe(eventId),
        UpdateExpression: 'SET #status = :done, summary = :summary REMOVE lease_until',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':done': 'done', ':summary': summary },
      }),
    );
  },

  /** Releases a claim after a failure so EventBridge's retry processes the event again. */
  async releaseEvent(eventId: string): Promise<void> {
    await ddb.send(
      new DeleteCommand({
        TableName: tableName(),
        Key: keys.eventDedupe(eventId),
        ConditionExpression: '#status = :processing',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':processing': 'processing' },
      }),
    ).catch((err: unknown) => {
      if (!isConditionFailure(err)) throw err;
    });
  },
};

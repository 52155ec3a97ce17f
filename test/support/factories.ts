/**
 * Event and data factories: realistic defaults (shapes as /work/shared/EC2-SIGNALS.md documents
 * them), any field overridable. Ids are random per call so tests can run in parallel.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { type Api, invoke } from './http.js';
import { TEST_ADMIN_TOKEN } from './constants.js';

export const TEST_ACCOUNT = '123456789012';
export const TEST_REGION = 'us-east-1';

/** `i-` + 17 hex digits, like current EC2 instance ids. */
export const randomInstanceId = (): string => `i-${randomBytes(9).toString('hex').slice(0, 17)}`;

export const instanceArn = (instanceId: string, region = TEST_REGION, account = TEST_ACCOUNT): string =>
  `arn:aws:ec2:${region}:${account}:instance/${instanceId}`;

/** EventBridge's `time`: ISO-8601 UTC without milliseconds. */
export const eventTime = (date = new Date()): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Envelope overrides shared by every factory. */
export interface EnvelopeOverrides {
  id?: string;
  account?: string;
  region?: string;
  time?: string;
  resources?: string[];
}

function envelope<T extends string, D>(
  detailType: T,
  source: string,
  detail: D,
  defaultResources: string[],
  o: EnvelopeOverrides,
): EventBridgeEvent<T, D> {
  return {
    'version': '0',
    'id': o.id ?? randomUUID(),
    'detail-type': detailType,
    source,
    'account': o.account ?? TEST_ACCOUNT,
    'time': o.time ?? eventTime(),
    'region': o.region ?? TEST_REGION,
    'resources': o.resources ?? defaultResources,
    detail,
  };
}

// --- EC2 Spot Instance Interruption Warning (EC2-SIGNALS.md §1) -------------------------------

export interface SpotInterruptionDetail {
  'instance-id': string;
  'instance-action': 'terminate' | 'stop' | 'hibernate';
}
export type SpotInterruptionWarningEvent = EventBridgeEvent<
  'EC2 Spot Instance Interruption Warning',
  SpotInterruptionDetail
>;

export function spotInterruptionWarning(
  o: EnvelopeOverrides & {
    instanceId?: string;
    action?: SpotInterruptionDetail['instance-action'];
    detail?: Partial<SpotInterruptionDetail>;
  } = {},
): SpotInterruptionWarningEvent {
  const instanceId = o.instanceId ?? o.detail?.['instance-id'] ?? randomInstanceId();
  const detail: SpotInterruptionDetail = {
    'instance-id': instanceId,
    'instance-action': o.action ?? 'terminate',
    ...o.detail,
  };
  return envelope(
    'EC2 Spot Instance Interruption Warning',
    'aws.ec2',
    detail,
    [instanceArn(instanceId, o.region, o.account)],
    o,
  );
}

// --- EC2 Instance Rebalance Recommendation (§2) --------------------------------------------------

export interface RebalanceDetail {
  'instance-id': string;
}
export type RebalanceRecommendationEvent = EventBridgeEvent<
  'EC2 Instance Rebalance Recommendation',
  RebalanceDetail
>;

export function rebalanceRecommendation(
  o: EnvelopeOverrides & { instanceId?: string; detail?: Partial<RebalanceDetail> } = {},
): RebalanceRecommendationEvent {
  const instanceId = o.instanceId ?? o.detail?.['instance-id'] ?? randomInstanceId();
  const detail: RebalanceDetail = { 'instance-id': instanceId, ...o.detail };
  return envelope(
    'EC2 Instance Rebalance Recommendation',
    'aws.ec2',
    detail,
    [instanceArn(instanceId, o.region, o.account)],
    o,
  );
}

// --- EC2 Instance State-change Notification (§3) --------------------------------------------------

export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';
export interface StateChangeDetail {
  'instance-id': string;
  'state': InstanceState;
}
export type InstanceStateChangeEvent = EventBridgeEvent<
  'EC2 Instance State-change Notification',
  StateChangeDetail
>;

/** Defaults to `terminated`: the state that confirms an interruption. */
export function instanceStateChange(
  o: EnvelopeOverrides & {
    instanceId?: string;
    state?: InstanceState;
    detail?: Partial<StateChangeDetail>;
  } = {},
): InstanceStateChangeEvent {
  const instanceId = o.instanceId ?? o.detail?.['instance-id'] ?? randomInstanceId();
  const detail: StateChangeDetail = {
    'instance-id': instanceId,
    'state': o.state ?? 'terminated',
    ...o.detail,
  };
  return envelope(
    'EC2 Instance State-change Notification',
    'aws.ec2',
    detail,
    [instanceArn(instanceId, o.region, o.account)],
    o,
  );
}

// --- AWS Health scheduled change for EC2 (§4) ----------------------------------------------------

export interface HealthEventDetail {
  eventArn: string;
  service: string;
  eventTypeCode: string;
  eventTypeCategory: 'issue' | 'accountNotification' | 'scheduledChange';
  eventScopeCode?: 'PUBLIC' | 'ACCOUNT_SPECIFIC' | 'NONE';
  communicationId?: string;
  /** RFC-1123 style (`Wed, 16 Aug 2023 23:18:51 GMT`), not ISO-8601. */
  startTime: string;
  endTime?: string;
  lastUpdatedTime?: string;
  eventRegion?: string;
  statusCode?: 'open' | 'upcoming' | 'closed';
  affectedAccount?: string;
  eventDescription: Array<{ language: string; latestDescription: string }>;
  affectedEntities: Array<{ entityValue: string; tags?: Record<string, string> }>;
  /** Present when Health split the event into pages (same eventArn and communicationId). */
  page?: string;
  totalPages?: string;
}
export type HealthEvent = EventBridgeEvent<'AWS Health Event', HealthEventDetail>;

/**
 * An EC2 scheduled change (default: instance retirement two weeks out) for `instanceIds`.
 * `resources` holds bare instance ids, as Health sends them for EC2.
 */
export function healthScheduledChange(
  o: EnvelopeOverrides & {
    instanceIds?: string[];
    eventTypeCode?: string;
    startTime?: Date;
    detail?: Partial<HealthEventDetail>;
  } = {},
): HealthEvent {
  const instanceIds = o.instanceIds ?? [randomInstanceId()];
  const region = o.region ?? TEST_REGION;
  const eventTypeCode = o.eventTypeCode ?? 'AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED';
  const start = o.startTime ?? new Date(Date.now() + 14 * 24 * 3600 * 1000);
  const id = randomBytes(8).toString('hex');
  const detail: HealthEventDetail = {
    eventArn: `arn:aws:health:${region}::event/EC2/${eventTypeCode}/${eventTypeCode}_${id}`,
    service: 'EC2',
    eventTypeCode,
    eventTypeCategory: 'scheduledChange',
    eventScopeCode: 'ACCOUNT_SPECIFIC',
    communicationId: `${randomBytes(16).toString('hex')}-1`,
    startTime: start.toUTCString(),
    endTime: new Date(start.getTime() + 2 * 3600 * 1000).toUTCString(),
    lastUpdatedTime: new Date().toUTCString(),
    eventRegion: region,
    statusCode: 'upcoming',
    affectedAccount: o.account ?? TEST_ACCOUNT,
    eventDescription: [
      {
        language: 'en_US',
        latestDescription: 'EC2 has detected degradation of the underlying hardware hosting your instance.',
      },
    ],
    affectedEntities: instanceIds.map((entityValue) => ({ entityValue })),
    ...o.detail,
  };
  return envelope('AWS Health Event', 'aws.health', detail, instanceIds, o);
}

// --- Clients through the admin API --------------------------------------------------------------

export interface CreatedClient {
  id: string;
  name: string;
  email: string | null;
  plan: string | null;
  max_agents: number;
  aws_account_ids: string[];
  status: string;
  token: string;
  created_at: string;
  version: number;
}

export interface ClientOverrides {
  name?: string;
  email?: string;
  plan?: string;
  max_agents?: number;
  aws_account_ids?: string[];
}

/** A unique client name per call: the table is shared by every test of the run. */
const clientBody = (o: ClientOverrides) => ({ name: `test-client-${randomUUID()}`, ...o });

function createdClient(
  status: number,
  json: unknown,
  text: string,
): { client: CreatedClient; token: string } {
  const client = (json as { client?: CreatedClient } | undefined)?.client;
  if (status !== 201 || !client) throw new Error(`creating a client failed: ${status} ${text}`);
  return { client, token: client.token };
}

/** Creates a client with the admin token over HTTP (`api(baseUrl)`); returns it and its token. */
export async function createClientViaApi(
  client: Api,
  overrides: ClientOverrides = {},
): Promise<{ client: CreatedClient; token: string }> {
  const res = await client.post('/api/admin/clients/create', {
    token: TEST_ADMIN_TOKEN,
    body: clientBody(overrides),
  });
  return createdClient(res.status, res.json, res.text);
}

/** Same, calling the clients Lambda in-process (no socket). */
export async function createClientInProcess(
  overrides: ClientOverrides = {},
): Promise<{ client: CreatedClient; token: string }> {
  const res = await invoke('clients', 'POST', '/api/admin/clients/create', {
    token: TEST_ADMIN_TOKEN,
    body: clientBody(overrides),
  });
  return createdClient(res.status, res.json, res.text);
}

import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { parseCorsOrigins } from '../functions/shared/http/cors.js';

/**
 * The operator's knobs: CDK context (`cdk.json` "context", or `-c name=value` on the command line),
 * read and validated in one place. lib/OPERATIONS.md documents every entry of CONTEXT_KNOBS (a test
 * checks that), so adding a knob here without documenting it fails the build.
 */

/** Stage throttling when no context is given (API.md §1.1: 1,000 agents send about 200 rps). */
export const DEFAULT_THROTTLE = { rate: 2000, burst: 4000 } as const;
export const DEFAULT_LOG_RETENTION_DAYS = 30;
/**
 * Reserved concurrency of each agent-facing Lambda (5 groups) and of the EC2 events consumer: 5 × 50
 * + 20 = 270 of the account's default 1,000, leaving 730 for everything else (AWS keeps at least
 * 100 unreserved). lib/OPERATIONS.md has the arithmetic for other fleets and quotas.
 */
export const DEFAULT_AGENT_RESERVED_CONCURRENCY = 50;
export const DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY = 20;
export const DEFAULT_LOG_LEVEL = 'INFO';
/** Powertools logger levels (POWERTOOLS_LOG_LEVEL). */
export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL', 'SILENT'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface KnobDoc {
  readonly name: string;
  readonly default: string;
  readonly effect: string;
}

export const CONTEXT_KNOBS: readonly KnobDoc[] = [
  { name: 'account', default: 'CDK_DEFAULT_ACCOUNT, else 000000000000', effect: 'account of the control plane stack' },
  { name: 'region', default: 'CDK_DEFAULT_REGION, else us-east-1', effect: 'region of the control plane stack' },
  { name: 'throttleRate', default: String(DEFAULT_THROTTLE.rate), effect: 'HTTP API stage rate limit (requests/s); above it the gateway answers 429' },
  { name: 'throttleBurst', default: String(DEFAULT_THROTTLE.burst), effect: 'HTTP API stage burst limit (>= throttleRate)' },
  { name: 'logRetentionDays', default: String(DEFAULT_LOG_RETENTION_DAYS), effect: 'retention of every function log group and the API access log' },
  { name: 'logLevel', default: DEFAULT_LOG_LEVEL, effect: 'POWERTOOLS_LOG_LEVEL of every function' },
  { name: 'alarmEmail', default: '(none)', effect: 'email address subscribed to the alarm topic (confirm the subscription mail)' },
  { name: 'allowedEventAccounts', default: '(none)', effect: 'other accounts whose forwarders may put EC2/Health events on this bus' },
  { name: 'eventOrganizationId', default: '(none)', effect: 'an AWS Organizations id whose accounts may all forward events (StackSets)' },
  { name: 'corsOrigins', default: '(none)', effect: 'browser origins the HTTP API answers CORS for (the web console)' },
  { name: 'appVersion', default: 'package.json version', effect: 'APP_VERSION reported by GET /health and the OpenAPI document' },
  {
    name: 'agentReservedConcurrency',
    default: String(DEFAULT_AGENT_RESERVED_CONCURRENCY),
    effect: 'reserved concurrency of each agent-facing Lambda (agents, commands, replicas, emergency, reporting); 0: none',
  },
  {
    name: 'ec2EventsReservedConcurrency',
    default: String(DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY),
    effect: 'reserved concurrency of the EC2 events consumer; 0: none',
  },
];

export interface ControlPlaneSettings {
  readonly account: string;
  readonly region: string;
  readonly throttle: { readonly rate: number; readonly burst: number };
  readonly logRetention: RetentionDays;
  readonly logLevel: LogLevel;
  readonly alarmEmail?: string;
  readonly allowedEventAccounts: readonly string[];
  readonly eventOrganizationId?: string;
  readonly corsOrigins: readonly string[];
  readonly agentReservedConcurrency: number;
  readonly ec2EventsReservedConcurrency: number;
}

/** What `tryGetContext` returns: a string from `-c`, anything JSON from cdk.json, or undefined. */
type ContextReader = (name: string) => unknown;

const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

function integer(name: string, value: unknown, fallback: number, min = 1): number {
  if (!present(value)) return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`context ${name}: "${String(value)}" is not ${min === 0 ? 'a non-negative' : 'a positive'} integer`);
  }
  return n;
}

/** A list from a JSON array (cdk.json) or a comma-separated string (`-c a=1,2`). */
export function listOf(value: unknown): string[] {
  if (!present(value)) return [];
  const items = Array.isArray(value) ? value.map(String) : String(value).split(',');
  return [...new Set(items.map((v) => v.trim()).filter((v) => v !== ''))];
}

export function readSettings(context: ContextReader, env: NodeJS.ProcessEnv = process.env): ControlPlaneSettings {
  const rate = integer('throttleRate', context('throttleRate'), DEFAULT_THROTTLE.rate);
  const burst = integer('throttleBurst', context('throttleBurst'), Math.max(DEFAULT_THROTTLE.burst, rate));
  if (burst < rate) throw new Error(`context throttleBurst (${burst}) must be >= throttleRate (${rate})`);

  const days = integer('logRetentionDays', context('logRetentionDays'), DEFAULT_LOG_RETENTION_DAYS);
  const allowedDays = Object.values(RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!allowedDays.includes(days)) {
    throw new Error(`context logRetentionDays: ${days} is not a CloudWatch Logs retention (${allowedDays.join(', ')})`);
  }

  const level = String(context('logLevel') ?? DEFAULT_LOG_LEVEL).toUpperCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`context logLevel: "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
  }

  const alarmEmail = present(context('alarmEmail')) ? String(context('alarmEmail')).trim() : undefined;
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    throw new Error(`context alarmEmail: "${alarmEmail}" is not an email address`);
  }

  const allowedEventAccounts = listOf(context('allowedEventAccounts'));
  for (const account of allowedEventAccounts) {
    if (!/^\d{12}$/.test(account)) throw new Error(`context allowedEventAccounts: "${account}" is not an account id`);
  }

  const org = present(context('eventOrganizationId')) ? String(context('eventOrganizationId')).trim() : undefined;
  if (org !== undefined && !/^o-[a-z0-9]{10,32}$/.test(org)) {
    throw new Error(`context eventOrganizationId: "${org}" is not an organization id (o-…)`);
  }

  const corsOrigins = parseCorsOrigins(context('corsOrigins'));

  const agentReservedConcurrency = integer('agentReservedConcurrency', context('agentReservedConcurrency'), DEFAULT_AGENT_RESERVED_CONCURRENCY, 0);
  const ec2EventsReservedConcurrency = integer('ec2EventsReservedConcurrency', context('ec2EventsReservedConcurrency'), DEFAULT_EC2_EVENTS_RESERVED_CONCURRENCY, 0);

  return {
    account: String(context('account') ?? env.CDK_DEFAULT_ACCOUNT ?? '000000000000'),
    region: String(context('region') ?? env.CDK_DEFAULT_REGION ?? 'us-east-1'),
    throttle: { rate, burst },
    logRetention: days as RetentionDays,
    logLevel: level as LogLevel,
    ...(alarmEmail ? { alarmEmail } : {}),
    allowedEventAccounts,
    ...(org ? { eventOrganizationId: org } : {}),
    corsOrigins,
    agentReservedConcurrency,
    ec2EventsReservedConcurrency,
  };
}

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RUNBOOKS } from '../../lib/constructs/monitoring.js';
import { ALARM_TOPIC_PARAMETER, TARGET_BUS_PARAMETER } from '../../lib/forwarder-stack.js';
import { CONTEXT_KNOBS, readSettings } from '../../lib/settings.js';

/**
 * The operator's manual (lib/OPERATIONS.md) stays complete: every context knob, every environment
 * variable the functions read, every stack output and forwarder parameter, every alarm's runbook
 * anchor. Adding one of those without documenting it fails here.
 */
const root = resolve(fileURLToPath(import.meta.url), '../../..');
const manual = readFileSync(resolve(root, 'lib/OPERATIONS.md'), 'utf8');
const sources = (dir: string) =>
  readdirSync(resolve(root, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
    .join('\n');

describe('operator manual', () => {
  it('documents every CDK context knob with its default', () => {
    for (const knob of CONTEXT_KNOBS) expect(manual, knob.name).toMatch(new RegExp(`\\| \`${knob.name}\` \\|`));
  });

  it('documents every environment variable the functions read', () => {
    const names = new Set([...sources('functions').matchAll(/process\.env\.([A-Z_]+)|required\('([A-Z_]+)'\)/g)].map((m) => m[1] ?? m[2]));
    expect(names.size).toBeGreaterThan(5);
    for (const name of names) expect(manual, name).toContain(`\`${name}\``);
  });

  it('documents every stack output and forwarder parameter', () => {
    const lib = sources('lib');
    const outputs = [
      ...[...lib.matchAll(/new CfnOutput\(this, '(\w+)'/g)].map((m) => m[1]),
      // lib/app-stack.ts declares its outputs as a table: `Name: [value, description],`
      ...[...readFileSync(resolve(root, 'lib/app-stack.ts'), 'utf8').matchAll(/^ {6}(\w+): \[/gm)].map((m) => m[1]),
    ];
    expect(outputs).toEqual(expect.arrayContaining(['ApiUrl', 'EventBusArn', 'DeadLetterQueueUrl']));
    for (const name of [...outputs, TARGET_BUS_PARAMETER, ALARM_TOPIC_PARAMETER]) expect(manual, name).toContain(`\`${name}\``);
  });

  it('has a runbook section for every alarm kind, and links the capacity figures', () => {
    for (const anchor of RUNBOOKS) expect(manual, anchor).toContain(`<a id="${anchor}"></a>`);
    expect(manual).toContain('](../README.md#capacity)');
    expect(readFileSync(resolve(root, 'README.md'), 'utf8')).toContain('](lib/OPERATIONS.md)');
  });
});

describe('context knobs (lib/settings.ts)', () => {
  const settings = (context: Record<string, unknown>) => readSettings((name) => context[name], {});

  it('has safe defaults', () => {
    expect(settings({})).toEqual({
      account: '000000000000',
      region: 'us-east-1',
      throttle: { rate: 2000, burst: 4000 },
      logRetention: 30,
      logLevel: 'INFO',
      allowedEventAccounts: [],
      corsOrigins: [],
      agentReservedConcurrency: 50,
      ec2EventsReservedConcurrency: 20,
    });
    // 0 turns a reservation off (an account whose concurrency quota is too small for one).
    expect(settings({ agentReservedConcurrency: '0', ec2EventsReservedConcurrency: 0 })).toMatchObject({ agentReservedConcurrency: 0, ec2EventsReservedConcurrency: 0 });
    expect(() => settings({ agentReservedConcurrency: '-1' })).toThrow(/agentReservedConcurrency/);
  });

  it('reads -c strings and cdk.json values alike', () => {
    const fromCli = settings({
      throttleRate: '5000',
      logRetentionDays: '90',
      logLevel: 'debug',
      alarmEmail: 'ops@example.com',
      allowedEventAccounts: '111111111111, 222222222222',
      eventOrganizationId: 'o-abc123def4',
    });
    expect(fromCli).toMatchObject({
      throttle: { rate: 5000, burst: 5000 },
      logRetention: 90,
      logLevel: 'DEBUG',
      alarmEmail: 'ops@example.com',
      allowedEventAccounts: ['111111111111', '222222222222'],
      eventOrganizationId: 'o-abc123def4',
    });
    expect(settings({ throttleRate: 100, throttleBurst: 300, allowedEventAccounts: ['333333333333'] })).toMatchObject({
      throttle: { rate: 100, burst: 300 },
      allowedEventAccounts: ['333333333333'],
    });
  });

  it('refuses bad values with the knob named', () => {
    expect(() => settings({ throttleRate: 'fast' })).toThrow(/throttleRate/);
    expect(() => settings({ throttleRate: 500, throttleBurst: 100 })).toThrow(/throttleBurst .* must be >= throttleRate/);
    expect(() => settings({ logRetentionDays: 31 })).toThrow(/logRetentionDays: 31 is not a CloudWatch Logs retention/);
    expect(() => settings({ logLevel: 'LOUD' })).toThrow(/logLevel/);
    expect(() => settings({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail/);
    expect(() => settings({ allowedEventAccounts: '12345' })).toThrow(/allowedEventAccounts: "12345"/);
    expect(() => settings({ eventOrganizationId: 'org-1' })).toThrow(/eventOrganizationId/);
  });
});

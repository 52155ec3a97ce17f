import { describe, expect, it } from 'vitest';
import { heartbeatBucket } from '../../../functions/admin/dashboards.js';
import { expectedPeriodSeconds } from '../../../functions/admin/system-health.js';
import { acceptsTerminateCommand } from '../../../functions/shared/zombies.js';

describe('admin helpers', () => {
  it('derive each job’s period from its schedule', () => {
    expect(expectedPeriodSeconds('rate(1 minute)')).toBe(60);
    expect(expectedPeriodSeconds('rate(15 minutes)')).toBe(900);
    expect(expectedPeriodSeconds('rate(12 hours)')).toBe(43_200);
    expect(expectedPeriodSeconds('cron(0 3 * * ? *)')).toBe(86_400);
  });

  it('bucket heartbeats: under 60 s healthy, 60–120 s degraded, over 120 s (or never) critical', () => {
    const now = new Date('2025-01-01T00:02:00.000Z');
    expect(heartbeatBucket('2025-01-01T00:01:30.000Z', now)).toBe('healthy');
    expect(heartbeatBucket('2025-01-01T00:01:00.000Z', now)).toBe('degraded');
    expect(heartbeatBucket('2025-01-01T00:00:00.000Z', now)).toBe('degraded');
    expect(heartbeatBucket('2024-12-31T23:59:59.000Z', now)).toBe('critical');
    expect(heartbeatBucket(null, now)).toBe('critical');
  });

  it('send terminate_instance only to live agents of version 5.0.0 or later', () => {
    expect(acceptsTerminateCommand({ agent_version: '5.0.0', status: 'online' })).toBe(true);
    expect(acceptsTerminateCommand({ agent_version: 'v6.1', status: 'offline' })).toBe(true);
    expect(acceptsTerminateCommand({ agent_version: '4.9.9', status: 'online' })).toBe(false);
    expect(acceptsTerminateCommand({ agent_version: null, status: 'online' })).toBe(false);
    expect(acceptsTerminateCommand({ agent_version: '5.0.0', status: 'deleted' })).toBe(false);
  });
});

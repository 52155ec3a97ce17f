import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keys, padPriorityDesc, SHARDS, shardKeys, shardOf } from '../../../../functions/shared/db/keys.js';

describe('key builders', () => {
  it('builds entity keys with prefixes', () => {
    expect(keys.client('c1')).toEqual({ PK: 'CLIENT#c1', SK: 'CLIENT' });
    expect(keys.agent('a1')).toEqual({ PK: 'AGENT#a1', SK: 'AGENT' });
    expect(keys.instance('i-1')).toEqual({ PK: 'INSTANCE#i-1', SK: 'INSTANCE' });
    expect(keys.replica('a1', 'r1')).toEqual({ PK: 'AGENT#a1', SK: 'REPLICA#r1' });
    expect(keys.command('a1', 'k1')).toEqual({ PK: 'AGENT#a1', SK: 'COMMAND#k1' });
    expect(keys.token('abc')).toEqual({ PK: 'TOKEN#abc', SK: 'TOKEN' });
    expect(keys.logicalAgent('c1', 'l1')).toEqual({ PK: 'LOGICAL#c1#l1', SK: 'LOGICAL' });
  });

  it('client names are unique case-insensitively', () => {
    expect(keys.clientName(' Acme ')).toEqual(keys.clientName('acme'));
  });

  it('pending commands sort by priority desc, then oldest first', () => {
    const sk = (p: number, at: string) => keys.pendingCommandIndex('a', p, at, 'x').GSI1SK;
    const sorted = [sk(25, '2025-01-01T00:00:02Z'), sk(100, '2025-01-01T00:00:03Z'), sk(25, '2025-01-01T00:00:01Z'), sk(75, '2025-01-01T00:00:00Z')].sort();
    expect(sorted).toEqual([sk(100, '2025-01-01T00:00:03Z'), sk(75, '2025-01-01T00:00:00Z'), sk(25, '2025-01-01T00:00:01Z'), sk(25, '2025-01-01T00:00:02Z')]);
    expect(padPriorityDesc(100)).toBe('0900');
    expect(padPriorityDesc(10)).toBe('0990');
  });

  it('index keys group by owner', () => {
    expect(keys.agentsOfClientIndex('c1', 't', 'a1')).toEqual({ GSI1PK: `CLIENT#c1#AGENTS#S${shardOf('a1')}`, GSI1SK: 't#a1' });
    expect(keys.instancesOfAgentIndex('a1', 'ZOMBIE', 'i-1')).toEqual({ GSI1PK: 'AGENT#a1#INSTANCES', GSI1SK: 'ZOMBIE#i-1' });
    expect(keys.onlineAgentsIndex('a1')).toEqual({ GSI3PK: `AGENTS#ONLINE#S${shardOf('a1')}`, GSI3SK: 'a1' });
    expect(keys.openCommandIndex('2025', 'k')).toEqual({ GSI2PK: 'COMMANDS#OPEN', GSI2SK: '2025#k' });
    expect(keys.notificationsOfClientIndex(null, 't', 'n').GSI1PK).toBe('CLIENT#SYSTEM#NOTIFS');
    expect(keys.poolsOfTypeIndex('us-east-1', 'm5.large', 'm5.large.us-east-1a')).toEqual({
      GSI1PK: 'POOLS#us-east-1#m5.large',
      GSI1SK: 'm5.large.us-east-1a',
    });
  });

  it('shards the fleet-wide agent partitions evenly and stably', () => {
    expect(shardOf('a1')).toBe(shardOf('a1'));
    expect(shardKeys('AGENTS')).toHaveLength(SHARDS);
    expect(shardKeys('AGENTS')[0]).toBe('AGENTS#S00');
    expect(shardKeys('AGENTS').at(-1)).toBe(`AGENTS#S${SHARDS - 1}`);
    const counts = new Map<string, number>();
    for (let i = 0; i < 16_000; i++) {
      const shard = shardOf(randomUUID());
      counts.set(shard, (counts.get(shard) ?? 0) + 1);
    }
    expect(counts.size).toBe(SHARDS);
    // 1,000 ids per shard expected; a uniform hash stays well within ±15 %.
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
    expect(keys.allAgentsIndex('t', 'a1').GSI2PK).toBe(`AGENTS#S${shardOf('a1')}`);
    expect(keys.agentsOfClientShards('c1')).toContain(keys.agentsOfClientIndex('c1', 't', 'a1').GSI1PK);
  });
});

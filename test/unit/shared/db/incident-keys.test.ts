import { describe, expect, it } from 'vitest';
import { keys } from '../../../../functions/shared/db/keys.js';

describe('incident keys', () => {
  it('one guard per (instance, signal); incident indexes by agent, by client, overall; event-id records', () => {
    expect(keys.signalGuard('i-1', 'termination')).toEqual({ PK: 'SIGNAL#i-1#termination', SK: 'SIGNAL' });
    expect(keys.incident('x')).toEqual({ PK: 'INCIDENT#x', SK: 'INCIDENT' });
    expect(keys.incidentsOfAgentIndex('a', '2025-01-01T00:00:00.000Z', 'x')).toEqual({
      GSI1PK: 'AGENT#a#INCIDENTS',
      GSI1SK: '2025-01-01T00:00:00.000Z#x',
    });
    expect(keys.allIncidentsIndex('t', 'x')).toEqual({ GSI2PK: 'INCIDENTS', GSI2SK: 't#x' });
    expect(keys.incidentsOfClientIndex('c', 't', 'x')).toEqual({ GSI3PK: 'CLIENT#c#INCIDENTS', GSI3SK: 't#x' });
    expect(keys.openIncident('x')).toEqual({ PK: 'INCIDENTS#OPEN', SK: 'x' });
    expect(keys.eventDedupe('e')).toEqual({ PK: 'EVENT#e', SK: 'EVENT' });
    expect(keys.launchingReplicasIndex('t', 'a', 'r')).toEqual({ GSI2PK: 'REPLICAS#LAUNCHING', GSI2SK: 't#a#r' });
    expect(keys.unconfirmedReplicasIndex('t', 'a', 'r')).toEqual({ GSI2PK: 'REPLICAS#UNCONFIRMED', GSI2SK: 't#a#r' });
  });
});

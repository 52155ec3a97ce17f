import { describe, expect, it } from 'vitest';
import { keys } from '../../../../functions/shared/db/keys.js';
import { searchEntryTx } from '../../../../functions/shared/db/search-repo.js';

describe('search index keys', () => {
  it('partition by the first two lower-cased characters and sort by the lower-cased name', () => {
    expect(keys.searchEntry('client', '  Acme Corp ', 'c1')).toEqual({ PK: 'SEARCH#client#ac', SK: 'acme corp#c1' });
    expect(keys.searchEntry('instance', 'Web-1', 'i-0abc')).toEqual({ PK: 'SEARCH#instance#we', SK: 'web-1#i-0abc' });
  });

  it('skips names too short to match a query and never puts one key twice in a transaction', () => {
    expect(searchEntryTx('agent', [[null, 'a'], ['x', 'a'], ['', 'a']])).toEqual([]);
    expect(searchEntryTx('instance', [['web-1', 'i-1'], ['WEB-1', 'i-1']])).toHaveLength(1);
  });

  it('files instances under their role (GSI3) so zombie-cleanup and active counts read one partition', () => {
    expect(keys.allInstancesIndex('ZOMBIE', '2025-01-01T00:00:00.000Z', 'i-1')).toEqual({
      GSI3PK: 'INSTANCES#ZOMBIE',
      GSI3SK: '2025-01-01T00:00:00.000Z#i-1',
    });
  });
});

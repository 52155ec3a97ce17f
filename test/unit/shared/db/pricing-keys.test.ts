import { describe, expect, it } from 'vitest';

describe('pricing pipeline keys', () => {
  it('builds the series, pool and consolidation-run keys', async () => {
    const { keys } = await import('../../../../functions/shared/db/keys.js');
    expect(keys.consolidatedPrice('m5.large.us-east-1a', '2030-01-01T00:05:00.000Z')).toEqual({
      PK: 'PRICE5M#m5.large.us-east-1a',
      SK: '2030-01-01T00:05:00.000Z',
    });
    expect(keys.canonicalPrice('m5.large.us-east-1a', '2030-01-01T01:00:00.000Z')).toEqual({
      PK: 'PRICEH#m5.large.us-east-1a',
      SK: '2030-01-01T01:00:00.000Z',
    });
    expect(keys.stagedPriceByTimeIndex('2030-01-01', '2030-01-01T00:01:00.000Z', 'm5.large.us-east-1a')).toEqual({
      GSI1PK: 'STAGE#DAY#2030-01-01',
      GSI1SK: '2030-01-01T00:01:00.000Z#m5.large.us-east-1a',
    });
    expect(keys.consolidationRun('2030-01-01T00:00:00.000Z', 'r1')).toEqual({ PK: 'CONSOLIDATION', SK: 'RUN#2030-01-01T00:00:00.000Z#r1' });
    expect(keys.consolidationWatermark()).toEqual({ PK: 'CONSOLIDATION', SK: 'WATERMARK' });
    expect(keys.consolidationRunsByStatusIndex('ok', '2030-01-01T00:00:00.000Z', 'r1')).toEqual({
      GSI1PK: 'CONSOLIDATION#ok',
      GSI1SK: '2030-01-01T00:00:00.000Z#r1',
    });
    // The watermark shares the runs' partition but never matches the runs' `RUN#` prefix.
    expect(keys.consolidationWatermark().SK.startsWith('RUN#')).toBe(false);
  });
});

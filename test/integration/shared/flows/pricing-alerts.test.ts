import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { evaluatePricingAlerts } from '../../../../functions/shared/flows/pricing-alerts.js';
import { alertsRepo } from '../../../../functions/shared/db/alerts-repo.js';
import { keys } from '../../../../functions/shared/db/keys.js';
import { pricesRepo } from '../../../../functions/shared/db/prices-repo.js';
import { invoke } from '../../../support/http.js';
import { tenant } from '../../../support/seed.js';
import { useIsolatedTable } from '../../../support/isolated-table.js';

// Installation-wide jobs run here with shifted clocks: keep them away from the other files' data.
useIsolatedTable();

type Json = Record<string, unknown>;
interface List {
  notifications: Json[];
  unread_count: number;
}

describe('pricing alert evaluation', () => {
  async function setPool(poolId: string, price: number, at: Date, extra: Record<string, number> = {}) {
    await pricesRepo.recordMarketPrice({
      pool_id: poolId,
      instance_type: poolId.slice(0, poolId.lastIndexOf('.')),
      region: 'us-east-1',
      az: poolId.slice(poolId.lastIndexOf('.') + 1),
      price,
      on_demand_price: 0.0416,
      priced_at: at.toISOString(),
      source: 'test',
    });
    if (Object.keys(extra).length > 0) {
      const { ddb, tableName } = await import('../../../../functions/shared/db/client.js');
      const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
      const names = Object.fromEntries(Object.keys(extra).map((k, i) => [`#k${i}`, k]));
      const values = Object.fromEntries(Object.values(extra).map((v, i) => [`:v${i}`, v]));
      await ddb.send(
        new UpdateCommand({
          TableName: tableName(),
          Key: keys.pool(poolId),
          UpdateExpression: `SET ${Object.keys(extra).map((_, i) => `#k${i} = :v${i}`).join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    }
  }

  const listOwn = async (token: string) =>
    (await invoke<List>('notifications', 'GET', '/api/notifications', { token })).json.notifications.filter((n) => n.type === 'price_alert');

  it('a crossing notifies once; it re-arms when the condition clears and respects the 6 h cooldown', async () => {
    const t = await tenant();
    // A pool id unique to this test (the evaluator reads every enabled alert of the table).
    const pool = `t3.${randomUUID().slice(0, 6)}.us-east-1c`;
    const t0 = new Date();
    await setPool(pool, 0.01, t0);
    const created = await invoke<Json>('notifications', 'POST', `/api/client/${t.client.id}/pricing-alerts`, {
      token: t.token,
      body: { alert_type: 'spot_price_above', threshold: 0.02, pool_id: pool },
    });
    const alertId = created.json.alert_id as string;

    await evaluatePricingAlerts(t0);
    expect(await listOwn(t.token)).toEqual([]);

    const t1 = new Date(t0.getTime() + 15 * 60_000);
    await setPool(pool, 0.03, t1);
    await evaluatePricingAlerts(t1);
    await evaluatePricingAlerts(new Date(t1.getTime() + 15 * 60_000));
    await Promise.all([evaluatePricingAlerts(t1), evaluatePricingAlerts(t1)]);
    const fired = await listOwn(t.token);
    expect(fired).toHaveLength(1);
    expect(fired[0]?.message).toContain(pool);
    expect((await alertsRepo.get(t.client.id, alertId))?.last_triggered_at).toBe(t1.toISOString());

    // Clears, then crosses again within 6 h: no second notification.
    const t2 = new Date(t1.getTime() + 3600_000);
    await setPool(pool, 0.01, t2);
    await evaluatePricingAlerts(t2);
    expect((await alertsRepo.get(t.client.id, alertId))?.in_alarm).toBe(false);
    const t3 = new Date(t1.getTime() + 2 * 3600_000);
    await setPool(pool, 0.05, t3);
    await evaluatePricingAlerts(t3);
    expect(await listOwn(t.token)).toHaveLength(1);

    // Clears and crosses again after the cooldown: one more.
    const t4 = new Date(t1.getTime() + 7 * 3600_000);
    await setPool(pool, 0.01, t4);
    await evaluatePricingAlerts(t4);
    const t5 = new Date(t1.getTime() + 7.5 * 3600_000);
    await setPool(pool, 0.04, t5);
    await evaluatePricingAlerts(t5);
    await evaluatePricingAlerts(new Date(t5.getTime() + 900_000));
    expect(await listOwn(t.token)).toHaveLength(2);
  });

  it('an alert without pool_id watches its client’s agents’ pools; risk and savings alerts read the pool stats', async () => {
    const t = await tenant(); // agent registered in spot mode in t3.medium.us-east-1a
    const now = new Date(Date.now() + 60_000);
    await setPool('t3.medium.us-east-1a', 0.04, now, { risk_score: 0.9 });
    const upsert = (body: Json) =>
      invoke<Json>('notifications', 'POST', `/api/client/${t.client.id}/pricing-alerts`, { token: t.token, body });
    await upsert({ alert_type: 'pool_risk_above', threshold: 0.8 });
    await upsert({ alert_type: 'savings_below_percent', threshold: 10 }); // 0.04 vs 0.0416 on-demand: 3.8 %
    await upsert({ alert_type: 'interruption_rate_above', threshold: 5, enabled: false });
    await evaluatePricingAlerts(now);
    const types = (await listOwn(t.token)).map((n) => String(n.message).split(':')[0]).sort();
    expect(types).toEqual(['Pricing alert pool_risk_above', 'Pricing alert savings_below_percent']);
  });
});

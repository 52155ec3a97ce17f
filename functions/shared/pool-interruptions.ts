import { incidentsRepo } from './db/incidents-repo.js';
import { instancesRepo } from './db/instances-repo.js';

/**
 * Our own interruption history per spot pool, from the incidents (EmergencyEvents): every
 * `termination` incident (one per instance whatever the number of reports) of an instance that ran
 * in a spot pool **that EC2 itself reported** through EventBridge (its spot interruption warning or
 * state change). Interruptions feed every tenant's pool risk, so an agent's own notice — a client's
 * claim — never counts on its own: no tenant can make a pool look risky to the others. Incidents
 * are kept 30 days, exactly the window of the §4.6 `interruptions_30d` term.
 *
 * One Query over the incidents index (GSI2 `INCIDENTS`, from `fromIso` on) plus one GetItem per
 * distinct instance (interruptions are rare; the map caches lookups within a call).
 */
export async function interruptionsByPool(fromIso: string, toIso?: string): Promise<Map<string, number[]>> {
  const { items } = await incidentsRepo.listForAdmin({ since: fromIso, signal: 'termination' }, 'all');
  const poolOf = new Map<string, string | null>();
  const out = new Map<string, number[]>();
  for (const incident of items) {
    if (toIso && incident.detected_at >= toIso) continue;
    if (!incident.sources.includes('eventbridge')) continue;
    let poolId = poolOf.get(incident.instance_id);
    if (poolId === undefined) {
      const instance = await instancesRepo.get(incident.instance_id);
      poolId = instance && instance.mode === 'spot' ? instance.pool_id : null;
      poolOf.set(incident.instance_id, poolId);
    }
    if (!poolId) continue;
    const times = out.get(poolId) ?? [];
    times.push(Date.parse(incident.detected_at));
    out.set(poolId, times);
  }
  for (const times of out.values()) times.sort((a, b) => a - b);
  return out;
}

/**
 * The write-sharded agent partitions (keys.ts SHARDS) read as one: a client's agent list pages
 * through every agent once, in creation order (newest first for the history), with any page size;
 * filters and counts cover every shard; a bad cursor is 400.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { agentsRepo } from '../../../../functions/shared/db/agents-repo.js';
import { adminRepo } from '../../../../functions/shared/db/admin-repo.js';
import { keys, SHARDS } from '../../../../functions/shared/db/keys.js';
import { ValidationError } from '../../../../functions/shared/domain/errors.js';
import { createClientInProcess } from '../../../support/factories.js';
import { registerAgent } from '../../../support/seed.js';

const AGENTS = 24;
let clientId: string;
let created: string[];

beforeAll(async () => {
  const c = await createClientInProcess({ max_agents: 100 });
  clientId = c.client.id;
  created = [];
  // One at a time: creation order is the list order.
  for (let i = 0; i < AGENTS; i++) created.push((await registerAgent(c.token)).agentId);
});

async function pages(limit: number, newestFirst = false): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let token: string | undefined;
  let count = 0;
  do {
    const page = await agentsRepo.listByClient(clientId, limit, token, newestFirst);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((a) => a.id));
    token = page.nextToken ?? undefined;
    count++;
  } while (token && count < 100);
  return { ids, pages: count };
}

describe('sharded agent lists', () => {
  it('spread one client over several shards', () => {
    const shards = new Set(created.map((id) => keys.agentsOfClientIndex(clientId, '', id).GSI1PK));
    expect(shards.size).toBeGreaterThan(1);
    expect(shards.size).toBeLessThanOrEqual(SHARDS);
  });

  it.each([1, 5, 7, 24, 50])('page through every agent once, in creation order (limit %i)', async (limit) => {
    const { ids, pages: n } = await pages(limit);
    expect(ids).toEqual(created);
    expect(n).toBeLessThanOrEqual(Math.ceil(AGENTS / limit) + 1);
  });

  it('newest first for the history', async () => {
    expect((await pages(5, true)).ids).toEqual([...created].reverse());
  });

  it('filters and counts across shards (admin list of one client)', async () => {
    await agentsRepo.setStatus(created[3] as string, 'disabled');
    await agentsRepo.setStatus(created[17] as string, 'disabled');
    const ids: string[] = [];
    let token: string | undefined;
    do {
      const page = await adminRepo.agentsPage(1, token, { statuses: ['disabled'] }, clientId);
      ids.push(...page.items.map((a) => a.id));
      token = page.nextToken ?? undefined;
    } while (token);
    expect(ids).toEqual([created[3], created[17]]);
    expect(await adminRepo.countClientAgents(clientId, { statuses: ['disabled'] })).toBe(2);
    expect(await adminRepo.countClientAgents(clientId)).toBe(AGENTS);
    expect((await agentsRepo.listAllByClient(clientId)).map((a) => a.id)).toEqual(created);
  });

  it('refuses a cursor that is not one of its own', async () => {
    const foreign = Buffer.from(JSON.stringify({ PK: 'x', SK: 'y' })).toString('base64url');
    await expect(agentsRepo.listByClient(clientId, 5, foreign)).rejects.toBeInstanceOf(ValidationError);
  });
});

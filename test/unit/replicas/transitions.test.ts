import { describe, expect, it } from 'vitest';
import { replicaTransition } from '../../../functions/replicas/service.js';

describe('replica status transitions (API.md §4.2)', () => {
  it.each([
    ['launching', 'launching', 'same'],
    ['launching', 'syncing', 'ok'],
    ['launching', 'ready', 'ok'],
    ['syncing', 'ready', 'ok'],
    ['syncing', 'launching', 'illegal'],
    ['ready', 'syncing', 'illegal'],
    ['ready', 'promoted', 'illegal'],
    ['launching', 'failed', 'ok'],
    ['ready', 'terminated', 'ok'],
    ['failed', 'terminated', 'illegal'],
    ['terminated', 'terminated', 'same'],
    ['terminated', 'ready', 'illegal'],
    ['promoted', 'terminated', 'illegal'],
  ] as const)('%s → %s is %s', (from, to, expected) => {
    expect(replicaTransition(from, to)).toBe(expected);
  });
});

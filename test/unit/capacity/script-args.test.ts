import { describe, expect, it } from 'vitest';
import { BENCHES, parseBenchArgs } from '../../../bin/bench.js';
import { parseLoadtestArgs } from '../../../bin/loadtest.js';

describe('npm run bench flags (node:util parseArgs)', () => {
  it('selects benchmarks, prints JSON, rejects unknown flags and names', () => {
    expect(parseBenchArgs([]).only).toEqual([...BENCHES]);
    expect(parseBenchArgs(['--only', 'bundles,capacity', '--json'])).toEqual({ help: false, json: true, only: ['capacity', 'bundles'] });
    expect(parseBenchArgs(['--only=capacity']).only).toEqual(['capacity']);
    expect(parseBenchArgs(['--help']).help).toBe(true);
    expect(() => parseBenchArgs(['--bogus'])).toThrow(/bogus/);
    expect(() => parseBenchArgs(['--only', 'capacity,nope'])).toThrow(/unknown benchmark nope/);
    expect(() => parseBenchArgs(['--only', ''])).toThrow(/at least one/);
    expect(() => parseBenchArgs(['capacity'])).toThrow();
  });
});

describe('npm run loadtest flags', () => {
  it('needs agents, minutes and a token; defaults the rest', () => {
    const o = parseLoadtestArgs(['--agents', '1000', '--minutes', '5', '--token', 't']);
    expect(o).toMatchObject({ agents: 1000, minutes: 5, url: 'http://127.0.0.1:3000', token: 't', rampSeconds: 60, switchEverySeconds: 15, maxInFlight: 512, json: false });
    expect(parseLoadtestArgs(['--agents', '2', '--minutes', '0.5', '--admin-token', 'a', '--url', 'https://api.example.com/']).url).toBe('https://api.example.com');
    expect(parseLoadtestArgs(['--agents', '2', '--minutes', '0.5', '--admin-token', 'a']).rampSeconds).toBe(7.5);
    expect(parseLoadtestArgs(['--help']).help).toBe(true);
  });

  it('rejects unknown flags and bad values with the flag named', () => {
    expect(() => parseLoadtestArgs(['--agents', '1', '--minutes', '1', '--token', 't', '--nope'])).toThrow(/nope/);
    expect(() => parseLoadtestArgs(['--minutes', '1', '--token', 't'])).toThrow(/--agents/);
    expect(() => parseLoadtestArgs(['--agents', '1.5', '--minutes', '1', '--token', 't'])).toThrow(/--agents must be a positive integer/);
    expect(() => parseLoadtestArgs(['--agents', '1', '--minutes', '0', '--token', 't'])).toThrow(/--minutes/);
    expect(() => parseLoadtestArgs(['--agents', '1', '--minutes', '1'])).toThrow(/--token/);
    expect(() => parseLoadtestArgs(['--agents', '1', '--minutes', '1', '--token', 't', '--url', 'ftp://x'])).toThrow(/--url/);
    expect(() => parseLoadtestArgs(['--agents', '1', '--minutes', '1', '--token', 't', '--switch-every', '-1'])).toThrow(/--switch-every/);
  });
});

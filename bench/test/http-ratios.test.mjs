import { describe, expect, it } from 'vitest';
import { floorOf } from '../src/http-level.mjs';
import { compare, floorCell, ratioWithinRounds, times } from '../src/http-ratios.mjs';
import { roundOf as round } from './rounds.mjs';

describe('ratioWithinRounds', () => {
  it('takes the median of the ratios within each round, not the ratio of the medians', () => {
    // Medians: a 2,000, b 1,000 (ratio 2); within rounds: 1, 3, 4 (median 3).
    const perRound = [
      round({ a: [1_000, 0], b: [1_000, 1] }),
      round({ a: [3_000, 0], b: [1_000, 1] }),
      round({ a: [2_000, 0], b: [500, 1] }),
    ];
    expect(ratioWithinRounds(perRound, 'counter', 'a', 'b')).toBe(3);
  });

  it('reads the route asked for', () => {
    const perRound = [round({ a: [100, 900], b: [100, 300] })];
    expect(ratioWithinRounds(perRound, 'whoami', 'a', 'b')).toBe(3);
  });

  it('is NaN when either side is missing from a round, or no round ran', () => {
    const perRound = [round({ a: [100, 100], b: [50, 50] }), round({ a: [100, 100] })];
    expect(ratioWithinRounds(perRound, 'counter', 'a', 'b')).toBeNaN();
    expect(ratioWithinRounds(perRound, 'counter', 'a', 'absent')).toBeNaN();
    expect(ratioWithinRounds([], 'counter', 'a', 'b')).toBeNaN();
  });
});

describe('floorOf', () => {
  it('is the bare file store for Fastify file stores and MemoryStore', () => {
    for (const name of ['sessionfs', 'sessionfs+cache', 'memory', 'session-file-store', 'bare']) {
      expect(floorOf(name)).toBe('bare');
    }
  });

  it('is redis-floor for the Redis stores and the Express bare store for Express ones', () => {
    expect(floorOf('sessionfs+redis')).toBe('redis-floor');
    expect(floorOf('connect-redis')).toBe('redis-floor');
    expect(floorOf('redis-floor')).toBe('redis-floor');
    expect(floorOf('express:sessionfs')).toBe('express:bare');
    expect(floorOf('express:memory')).toBe('express:bare');
  });
});

describe('compare', () => {
  const compareIn = (perRound, route, contender, versus) =>
    compare(perRound, { route, contender, versus }, floorOf);
  const perRound = [
    round({ sessionfs: [2_000, 6_000], memory: [10_000, 12_000], bare: [1_000, 2_000] }),
    round({ sessionfs: [2_200, 6_600], memory: [10_000, 12_000], bare: [1_000, 2_000] }),
  ];

  it('gives the peer ratio and each side against its floor, within rounds', () => {
    const compared = compareIn(perRound, 'counter', 'sessionfs', 'memory');
    expect(compared.ran).toBe(true);
    expect(compared.ratio).toBeCloseTo(0.21);
    expect(compared.floors).toEqual([
      { name: 'sessionfs', floor: 'bare', ratio: expect.closeTo(2.1) },
      { name: 'memory', floor: 'bare', ratio: 10 },
    ]);
    expect(compared.floors.map(floorCell)).toEqual(['2.10x', '10.00x']);
  });

  it('leaves out the side that is the floor itself', () => {
    const compared = compareIn(perRound, 'whoami', 'sessionfs', 'bare');
    expect(compared.floors.map((side) => side.name)).toEqual(['sessionfs']);
    expect(floorCell(compared.floors.find((side) => side.name === 'bare'))).toBe('(the floor)');
  });

  it('says which floor did not run', () => {
    const withoutFloor = [
      round({ 'sessionfs+redis': [9_000, 9_000], 'connect-redis': [10_000, 10_000] }),
    ];
    const compared = compareIn(withoutFloor, 'counter', 'sessionfs+redis', 'connect-redis');
    expect(compared.ratio).toBeCloseTo(0.9);
    expect(compared.floors.map(floorCell)).toEqual([
      'n/a (redis-floor not run)',
      'n/a (redis-floor not run)',
    ]);
  });

  it('marks a comparison whose contender did not run', () => {
    const compared = compareIn(perRound, 'counter', 'itrocks', 'memory');
    expect(compared.ran).toBe(false);
    expect(times(compared.ratio)).toBe('n/a');
  });
});

import { describe, expect, it } from 'vitest';
import { httpReport } from '../src/http-level.mjs';
import { roundOf as round } from './rounds.mjs';

const load = { pool: 1_000, connections: 50, warmup: 0.5, seconds: 1.5, slices: 1 };

describe('httpReport', () => {
  const names = ['sessionfs', 'bare', 'memory', 'session-file-store'];
  const perRound = [
    round({
      sessionfs: [2_400, 6_000],
      bare: [2_000, 2_000],
      memory: [10_000, 12_000],
      'session-file-store': [1_000, 1_500],
    }),
    round({
      sessionfs: [2_600, 6_600],
      bare: [2_000, 2_200],
      memory: [10_000, 12_000],
      'session-file-store': [1_000, 1_500],
    }),
  ];
  const { markdown, results, chart } = httpReport({
    perRound,
    names,
    load,
    rounds: 2,
    load1: [1, 2],
  });

  it('prints each ratio with both sides against their floor, taken within rounds', () => {
    // sessionfs / bare: 1.2 and 1.3 in the rounds, median 1.25.
    expect(markdown).toContain(
      '| route | ratio | measured | target | contender / floor | peer / floor |',
    );
    expect(markdown).toContain(
      '| counter | sessionfs / bare file store | 1.25x | ≥ 1.1x: met | 1.25x | (the floor) |',
    );
    // sessionfs / MemoryStore on who-am-I: 0.5 and 0.55; each against bare: 3 and 3, 6 and 5.45.
    expect(markdown).toContain(
      '| who am I | sessionfs / MemoryStore | 0.53x | ≥ 0.95x: **NOT met** | 3.00x | 5.73x |',
    );
    expect(results.ratios.every((ratio) => names.includes(ratio.contender))).toBe(true);
  });

  it('charts the contenders that ran, with the bare store as the floor of their group', () => {
    const bars = [...chart.matchAll(/class="bar" data-route="(\w+)" data-value="(\d+)"/g)];
    // Medians per contender and route, in the order of the names.
    expect(bars.map(([, route, value]) => `${route} ${value}`)).toEqual([
      'counter 2500',
      'whoami 6300',
      'counter 2000',
      'whoami 2100',
      'counter 10000',
      'whoami 12000',
      'counter 1000',
      'whoami 1500',
    ]);
    const marks = [...chart.matchAll(/class="floor-mark" data-route="(\w+)" data-value="(\d+)"/g)];
    // On sessionfs, MemoryStore and session-file-store, not on the floor itself.
    expect(marks.map(([, route, value]) => `${route} ${value}`)).toEqual(
      Array(3).fill(['counter 2000', 'whoami 2100']).flat(),
    );
    expect(chart).toContain('bare file store (floor)');
    expect(chart).not.toContain('Redis');
  });
});

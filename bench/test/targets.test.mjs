import { describe, expect, it } from 'vitest';
import { floorOf } from '../src/http-level.mjs';
import {
  HTTP_TARGETS,
  httpTargetRows,
  REDIS_CLIENT_SIDE_CACHE,
  reaperTargetRow,
  targetsTable,
} from '../src/targets.mjs';
import { roundOf as round } from './rounds.mjs';

const label = (name) => `<${name}>`;
/** A round of every default contender but the client-side-cached one. */
const defaults = {
  sessionfs: [2_400, 9_600],
  memory: [10_000, 10_000],
  bare: [2_000, 2_500],
  'session-file-store': [1_000, 1_500],
  'sessionfs+redis': [9_000, 14_000],
  'connect-redis': [10_000, 10_000],
  'redis-floor': [10_000, 11_000],
};
const rowsFor = (perRound) =>
  Object.fromEntries(
    httpTargetRows(perRound, floorOf, label).map((row, i) => [
      `${HTTP_TARGETS[i].figure} / ${HTTP_TARGETS[i].versus}`,
      row,
    ]),
  );

describe('httpTargetRows', () => {
  it('gives each figure now, against the floor, and whether the target is met', () => {
    const rows = rowsFor([round(defaults)]);
    expect(rows['file, who-am-I, default options / memory']).toMatchObject({
      now: '0.96x <memory>',
      target: '≥ 0.95x <memory>',
      status: 'met',
      floors: '<sessionfs> 3.84x of <bare>; <memory> 4.00x of <bare>',
    });
    expect(rows['file, counter / bare']).toMatchObject({
      now: '1.20x <bare>',
      status: 'met',
      floors: '<sessionfs> 1.20x of <bare>',
    });
    expect(rows['file, counter / session-file-store'].status).toBe('met');
    expect(rows['Redis, counter, default options / connect-redis']).toMatchObject({
      now: '0.90x <connect-redis>',
      status: '**NOT met**',
      floors: '<sessionfs+redis> 0.90x of <redis-floor>; <connect-redis> 1.00x of <redis-floor>',
    });
    expect(rows['Redis, who-am-I, default options / connect-redis'].status).toBe('met');
  });

  it('says "not run" for the client-side-cache row until that contender runs', () => {
    const absent = rowsFor([round(defaults)])[
      'Redis, counter, cache on (client-side caching) / connect-redis'
    ];
    expect(absent).toMatchObject({ now: '–', status: `\`${REDIS_CLIENT_SIDE_CACHE}\` not run` });

    const ran = rowsFor([round({ ...defaults, [REDIS_CLIENT_SIDE_CACHE]: [12_000, 20_000] })])[
      'Redis, counter, cache on (client-side caching) / connect-redis'
    ];
    expect(ran).toMatchObject({ now: '1.20x <connect-redis>', status: 'met' });
  });

  it('says "not run" on every row when the HTTP level did not run', () => {
    const rows = httpTargetRows([], floorOf, label);
    expect(rows).toHaveLength(HTTP_TARGETS.length);
    for (const row of rows) expect(row).toMatchObject({ now: '–', status: 'not run' });
  });
});

describe('reaperTargetRow', () => {
  const scale = (filesPerSecond, delayP99Ms) => ({
    count: 1_000_000,
    floor: { filesPerSecond: 40_000 },
    reaped: { removed: 799_000, filesPerSecond, delayP99Ms },
  });

  it('is met at 0.95x the unlink floor with a p99 under 50 ms, and not otherwise', () => {
    expect(reaperTargetRow(scale(38_000, 12.5))).toMatchObject({
      now: '0.95x the unlink floor, p99 12.5 ms (799,000 removed of 1,000,000 on disk)',
      status: 'met',
    });
    expect(reaperTargetRow(scale(37_000, 12.5)).status).toBe('**NOT met**');
    expect(reaperTargetRow(scale(40_000, 50)).status).toBe('**NOT met**');
  });

  it('says "not run" without the scale section', () => {
    expect(reaperTargetRow(undefined)).toMatchObject({ now: '–', status: 'not run' });
  });
});

describe('targetsTable', () => {
  it('prints a markdown row per figure under the table header', () => {
    const markdown = targetsTable([reaperTargetRow(undefined)]);
    const lines = markdown.split('\n').filter((line) => line.startsWith('|'));
    expect(lines[0]).toBe('| route / figure | now | against the floor | target | met |');
    expect(lines[2]).toBe(
      '| reaper at 1,000,000 expired | – | – | ≥ 0.95x the unlink floor, event-loop delay p99 < 50 ms | not run |',
    );
  });
});

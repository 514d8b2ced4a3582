// The targets of the work on doing less I/O per request (issue 20), gathered in one table at
// the end of a run: each figure now, each side against its floor, the target and whether it
// is met. A figure whose contender or section did not run says so.
import { compare, floorCell, ranEveryRound, times } from './http-ratios.mjs';
import { fmt, table } from './util.mjs';

/** The Redis contender with client-side caching (RESP3 tracking) on. */
export const REDIS_CLIENT_SIDE_CACHE = 'sessionfs+redis+csc';

/** HTTP figures: `contender`'s req/s over `versus`'s on `route`, within rounds, at least `target`. */
export const HTTP_TARGETS = [
  {
    figure: 'file, who-am-I, default options',
    route: 'whoami',
    contender: 'sessionfs',
    versus: 'memory',
    target: 0.95,
  },
  {
    figure: 'file, counter',
    route: 'counter',
    contender: 'sessionfs',
    versus: 'bare',
    target: 1.1,
  },
  {
    figure: 'file, counter',
    route: 'counter',
    contender: 'sessionfs',
    versus: 'session-file-store',
    target: 2.2,
  },
  {
    figure: 'Redis, who-am-I, default options',
    route: 'whoami',
    contender: 'sessionfs+redis',
    versus: 'connect-redis',
    target: 1.3,
  },
  {
    figure: 'Redis, counter, default options',
    route: 'counter',
    contender: 'sessionfs+redis',
    versus: 'connect-redis',
    target: 0.95,
  },
  {
    figure: 'Redis, counter, cache on (client-side caching)',
    route: 'counter',
    contender: REDIS_CLIENT_SIDE_CACHE,
    versus: 'connect-redis',
    target: 1.1,
  },
];

/** The reaper removes expired sessions at this share of the bare unlink loop's rate, at least. */
const REAPER_TARGET = 0.95;
/** ... with the event loop's delay p99 under this many ms. */
const REAPER_DELAY_P99_MS = 50;

const verdict = (met) => (met ? 'met' : '**NOT met**');

/**
 * A row per HTTP target from the HTTP level's rounds (`[]` when it did not run): `label(name)`
 * names a contender, `floorOf(name)` its floor.
 */
export function httpTargetRows(perRound, floorOf, label) {
  return HTTP_TARGETS.map(({ figure, route, contender, versus, target }) => {
    const compared = compare(perRound, { route, contender, versus }, floorOf);
    const goal = `≥ ${target}x ${label(versus)}`;
    if (!compared.ran) {
      const missing = [contender, versus].filter((name) => !ranEveryRound(perRound, name));
      const status = perRound.length
        ? `${missing.map((name) => `\`${name}\``).join(', ')} not run`
        : 'not run';
      return { figure, now: '–', floors: '–', target: goal, status };
    }
    return {
      figure,
      now: `${times(compared.ratio)} ${label(versus)}`,
      floors: compared.floors
        .map((side) => `${label(side.name)} ${floorCell(side)} of ${label(side.floor)}`)
        .join('; '),
      target: goal,
      status: verdict(compared.ratio >= target),
    };
  });
}

/**
 * The reaper's row from the scale section's results (undefined when it did not run): the
 * reaper's run (`reaped`: removed, files/s, event-loop delay p99) against the bare unlink
 * loop's (`floor`) over the same directory of `count` sessions.
 */
export function reaperTargetRow(scale) {
  const figure = 'reaper at 1,000,000 expired';
  const target = `≥ ${REAPER_TARGET}x the unlink floor, event-loop delay p99 < ${REAPER_DELAY_P99_MS} ms`;
  if (!scale) return { figure, now: '–', floors: '–', target, status: 'not run' };
  const { reaped, floor, count } = scale;
  const ratio = reaped.filesPerSecond / floor.filesPerSecond;
  return {
    figure,
    now: `${times(ratio)} the unlink floor, p99 ${reaped.delayP99Ms.toFixed(1)} ms (${fmt(reaped.removed)} removed of ${fmt(count)} on disk)`,
    floors: `bare unlink loop ${fmt(floor.filesPerSecond)} files/s, the reaper ${fmt(reaped.filesPerSecond)}`,
    target,
    status: verdict(ratio >= REAPER_TARGET && reaped.delayP99Ms < REAPER_DELAY_P99_MS),
  };
}

/** The targets table in markdown, from `httpTargetRows()` and `reaperTargetRow()` rows. */
export function targetsTable(rows) {
  return `### Targets: less I/O per request (issue 20)\n\n_Ratios within rounds, medians; each side also against the floor of its kind (file stores and MemoryStore: the bare file store; Redis stores: the no-rules Redis floor)._\n\n${table(
    ['route / figure', 'now', 'against the floor', 'target', 'met'],
    rows.map((row) => [row.figure, row.now, row.floors, row.target, row.status]),
  )}`;
}

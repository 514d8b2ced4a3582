// Ratios of req/s at the HTTP level, each taken within a round (where the contenders ran
// close together on the same machine) and then the median over the rounds, and beside each
// the ratio of either side to the floor of its kind: the reader sees how much of a figure is
// the machine (the floor) and how much the store.
import { median } from './util.mjs';

/** Whether the contender `name` ran in every round of `perRound`. */
export const ranEveryRound = (perRound, name) =>
  perRound.length > 0 && perRound.every((round) => round[name] !== undefined);

/**
 * The median over `perRound` of `a`'s req/s on `route` divided by `b`'s in the same round;
 * NaN when either did not run.
 */
export function ratioWithinRounds(perRound, route, a, b) {
  if (!ranEveryRound(perRound, a) || !ranEveryRound(perRound, b)) return Number.NaN;
  return median(perRound.map((round) => round[a].routes[route].rps / round[b].routes[route].rps));
}

/**
 * `contender` against `versus` on `route`, and each side (unless it is a floor itself)
 * against its floor, `floorOf(name)`. `ran` is false when either side did not run; a floor
 * that did not run gives a NaN ratio.
 */
export function compare(perRound, { route, contender, versus }, floorOf) {
  const toFloor = (name) => {
    const floor = floorOf(name);
    return { name, floor, ratio: ratioWithinRounds(perRound, route, name, floor) };
  };
  return {
    route,
    contender,
    versus,
    ran: ranEveryRound(perRound, contender) && ranEveryRound(perRound, versus),
    ratio: ratioWithinRounds(perRound, route, contender, versus),
    floors: [contender, versus].filter((name) => floorOf(name) !== name).map(toFloor),
  };
}

/** `1.03x`, or `n/a` for a ratio that could not be taken. */
export const times = (ratio) => (Number.isFinite(ratio) ? `${ratio.toFixed(2)}x` : 'n/a');

/** A `compare()` side against its floor for a table cell: `1.03x`, or why there is none. */
export const floorCell = (side) =>
  side === undefined
    ? '(the floor)'
    : Number.isFinite(side.ratio)
      ? times(side.ratio)
      : `n/a (${side.floor} not run)`;

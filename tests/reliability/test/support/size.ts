/**
 * How hard the suite pushes. CI size by default (the whole package in a few minutes on
 * two cores); `RELIABILITY_SIZE=large` (`pnpm test:large` at the root) for a long local
 * run. Every loop is bounded by a count and by a time budget.
 */
const requested = process.env.RELIABILITY_SIZE || 'ci';
if (requested !== 'ci' && requested !== 'large') {
  throw new Error(`RELIABILITY_SIZE must be 'ci' or 'large', got ${JSON.stringify(requested)}`);
}

export const SIZE_NAME: 'ci' | 'large' = requested;
const large = SIZE_NAME === 'large';

export const SIZE = {
  crash: {
    /** SIGKILLs of the writing child, at least. */
    kills: large ? 2_000 : 200,
    /** Time budget of the whole kill loop, in ms. */
    budgetMs: large ? 1_500_000 : 150_000,
  },
  faults: {
    /** Random operation sequences under random faults. */
    runs: large ? 1_000 : 100,
  },
  concurrency: {
    processes: 4,
    /** Operations per process. */
    operations: large ? 15_000 : 1_500,
    budgetMs: large ? 600_000 : 90_000,
    /** How often the owner-index processes pause for a look at rest, before the last. */
    ownerPauses: large ? 60 : 8,
  },
  reaperRace: {
    /** How long the writer keeps sessions alive beside the looping reaper, in ms. */
    durationMs: large ? 60_000 : 8_000,
    /** Sessions it keeps alive at once. */
    ids: 40,
  },
  model: {
    /** Random operation sequences per adapter and cache mode. */
    runs: large ? 2_000 : 200,
    maxOperations: large ? 60 : 30,
  },
  hostile: {
    runs: large ? 3_000 : 300,
  },
  load: {
    durationS: large ? 30 : 10,
    connections: large ? 100 : 50,
    sessions: large ? 6_000 : 2_000,
  },
} as const;

/** The time limit of a vitest test that runs a loop with budget `budgetMs`. */
export function testTimeout(budgetMs: number): number {
  return budgetMs + 60_000;
}

const check = { stored: 1_000, loggedIn: 1_000, other: 0, unsettled: 0, failed: 0 };
const clean = (rps) => ({ rps, p99: 10, errors: 0, non2xx: 0 });

/**
 * One round of the HTTP level's measurements, as `httpLevel()` gathers them, from req/s
 * given as `{ [contender]: [counter, whoami] }`: every request answered, every session kept.
 */
export const roundOf = (rates) =>
  Object.fromEntries(
    Object.entries(rates).map(([name, [counter, whoami]]) => [
      name,
      { routes: { counter: clean(counter), whoami: clean(whoami) }, check, stderr: '' },
    ]),
  );

/**
 * One round of the HTTP level's measurements as `report()` reads them, from req/s given as
 * `{ [contender]: [counter, whoami] }`.
 */
export const roundOf = (rates) =>
  Object.fromEntries(
    Object.entries(rates).map(([name, [counter, whoami]]) => [
      name,
      { routes: { counter: { rps: counter }, whoami: { rps: whoami } } },
    ]),
  );

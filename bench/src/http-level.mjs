// HTTP level: Fastify 5 + @fastify/cookie + @fastify/session (defaults) per contender, and
// Express 5 + express-session per `express:` contender, one server process each
// (http-server.mjs) and autocannon in another (http-client.mjs), on 127.0.0.1. A round runs
// the Fastify group, then the Express group (the other way round every other round): in a
// group every contender's server is up and the load alternates between them in slices
// (http-client.mjs says why). The Redis rows run on one redis-server of the benchmark's own.
// After each group, every stored session must decode.
import { execFileSync, fork } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { barChart } from './chart.mjs';
import { compare, floorCell, times } from './http-ratios.mjs';
import { HTTP_TARGETS, httpTargetRows } from './targets.mjs';
import { fmt, median, table, versionOf } from './util.mjs';

const script = (name) => fileURLToPath(new URL(name, import.meta.url));
const SERVER = script('./http-server.mjs');
const CLIENT = script('./http-client.mjs');
const REDIS_KEEPER = script('./redis-keeper.mjs');

export const ROUTES = ['counter', 'whoami'];
export const FILE_CONTENDERS = [
  'sessionfs',
  'sessionfs+sharded',
  'sessionfs+owner',
  'sessionfs+cache',
  'sessionfs+encryption',
  'bare',
  'memory',
  'session-file-store',
  'itrocks',
];
export const REDIS_CONTENDERS = ['sessionfs+redis', 'sessionfs+redis+csc', 'connect-redis'];
/** Express 5 + express-session, one contender per store; `--contenders=express` names them all. */
export const EXPRESS_CONTENDERS = [
  'express:sessionfs',
  'express:memory',
  'express:session-file-store',
  'express:bare',
];
/**
 * A reference, not a product: the least any store over Redis can do per request, JSON and
 * one `GET` and one `SET` on the same client, without a single rule. How far a contender is
 * from it is what its rules cost.
 */
export const REDIS_FLOOR = 'redis-floor';
/** Whether the contender `name` stores in Redis. */
export const usesRedis = (name) => REDIS_CONTENDERS.includes(name) || name === REDIS_FLOOR;
/** Whether the contender `name` runs on Express (and express-session) rather than Fastify. */
export const isExpress = (name) => name.startsWith('express:');
/**
 * The floor of the contender `name`'s kind, a store with no rules on the same medium and
 * server: `redis-floor` over Redis, else the bare file store of its server (Fastify or
 * Express); MemoryStore too is measured against the file floor, so the ceiling and the floor
 * read side by side. A floor's floor is itself.
 */
export const floorOf = (name) => {
  if (usesRedis(name)) return REDIS_FLOOR;
  return isExpress(name) ? 'express:bare' : 'bare';
};
/** Whether the contender `name` keeps its sessions in the server's memory. */
export const inMemory = (name) => name === 'memory' || name === 'express:memory';
const KNOWN = [...FILE_CONTENDERS, ...REDIS_CONTENDERS, REDIS_FLOOR, ...EXPRESS_CONTENDERS];

/**
 * The contenders named in `--contenders=a,b`, `express` standing for every Express one.
 * Throws for an unknown name.
 */
export function contenderNames(list) {
  const names = [
    ...new Set(list.flatMap((name) => (name === 'express' ? EXPRESS_CONTENDERS : [name]))),
  ];
  const unknown = names.filter((name) => !KNOWN.includes(name));
  if (unknown.length) {
    throw new Error(
      `unknown contender: ${unknown.join(', ')} (known: ${KNOWN.join(', ')}, or express for every express: one)`,
    );
  }
  return names;
}
const LABELS = {
  sessionfs: 'sessionfs (node adapter, defaults)',
  'sessionfs+cache': "sessionfs, `cache: { mode: 'shared' }`",
  'sessionfs+sharded': "sessionfs, `layout: 'sharded'` (16 subdirectories)",
  'sessionfs+owner': 'sessionfs, `owner` set: each session indexed by its user id',
  'sessionfs+encryption': 'sessionfs, `encryption` (AES-256-GCM)',
  bare: 'bare file store (temp + rename)',
  memory: "MemoryStore (@fastify/session's, the ceiling)",
  'session-file-store': 'session-file-store 1.5.0',
  itrocks: '@itrocks/fastify-file-session-store 0.0.11',
  'sessionfs+redis': 'sessionfs + @sessionfs/adapter-redis',
  'sessionfs+redis+csc':
    "sessionfs + @sessionfs/adapter-redis, `cache: { mode: 'shared' }`, `clientSideCache: true`",
  'connect-redis': 'connect-redis 9 (`redis` client)',
  [REDIS_FLOOR]: 'redis-floor (no rules: JSON over the same `redis` client, `GET`, `SET … PXAT`)',
  'express:sessionfs': 'Express: sessionfs (@sessionfs/express-session-file, defaults)',
  'express:memory': "Express: MemoryStore (express-session's, the ceiling)",
  'express:session-file-store': 'Express: session-file-store 1.5.0',
  'express:bare': 'Express: bare file store (temp + rename; touch writes it again)',
};
// [route, contender, compared with, least ratio]: ratios of req/s within a round, median.
// The targets table's (targets.mjs) come first; a figure has one target.
const TARGETS = [
  ...HTTP_TARGETS.map(({ route, contender, versus, target }) => [route, contender, versus, target]),
  ['counter', 'sessionfs', 'memory', 0.5],
  ['whoami', 'express:sessionfs', 'express:memory', 0.8],
  ['counter', 'express:sessionfs', 'express:bare', 0.9],
  ['counter', 'express:sessionfs', 'express:session-file-store', 1.8],
  // An owner index costs at most 3% of the counter route (issue 21).
  ['counter', 'sessionfs+owner', 'sessionfs', 0.97],
  // Encryption costs at most 10% of either route.
  ['counter', 'sessionfs+encryption', 'sessionfs', 0.9],
  ['whoami', 'sessionfs+encryption', 'sessionfs', 0.9],
];
// Shown for information: the cached variant against the same, and the rest of sessionfs
// against its peers (each ratio row also gives both sides against their floors).
const INFO = [
  // Sharding is adopted as the default only if the counter route gains 10% (issue 20).
  ['counter', 'sessionfs+sharded', 'sessionfs'],
  ['counter', 'sessionfs+sharded', 'bare'],
  ['whoami', 'sessionfs+sharded', 'sessionfs'],
  ['whoami', 'sessionfs+owner', 'sessionfs'],
  ['counter', 'sessionfs+cache', 'memory'],
  ['counter', 'sessionfs+cache', 'session-file-store'],
  ['whoami', 'sessionfs+cache', 'memory'],
  ['whoami', 'sessionfs+redis+csc', 'connect-redis'],
  ['counter', 'sessionfs+redis+csc', 'sessionfs+redis'],
  ['whoami', 'sessionfs+redis+csc', 'sessionfs+redis'],
  // The floor against session-file-store: what any atomic file store can reach of the
  // targets against it on this machine.
  ['counter', 'bare', 'session-file-store'],
  ['counter', 'express:bare', 'express:session-file-store'],
  ['counter', 'express:sessionfs', 'express:memory'],
  ['whoami', 'express:sessionfs', 'express:session-file-store'],
  // Across the groups: the same store under Express and under Fastify.
  ['counter', 'express:sessionfs', 'sessionfs'],
  ['whoami', 'express:sessionfs', 'sessionfs'],
];

/** Every child process started and not yet exited, killed if this process goes. */
const live = new Set();
const killAll = () => {
  for (const child of live) child.kill('SIGKILL');
};

/**
 * Forks `file` with an IPC channel. `next(key, ms)` resolves the next message's `key`, or
 * rejects (and kills the child) when it exits first or `ms` passes. Untracked children are
 * not killed with the others: they clean up and exit when the channel closes.
 */
export function start(file, args, execArgv = [], tracked = true) {
  const child = fork(file, args, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv });
  if (tracked) live.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4_000);
  });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve(code ?? signal);
    });
  });
  const next = (key, ms) =>
    new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      const fail = (why) => {
        done();
        child.kill('SIGKILL');
        reject(new Error(`${basename(file)} ${args[0]}: ${why}\n${stderr}`));
      };
      const onMessage = (message) => {
        if (message?.[key] === undefined) return;
        done();
        resolve(message[key]);
      };
      const onExit = (code, signal) => fail(`exited (${code ?? signal}) before sending ${key}`);
      const timer = setTimeout(() => fail(`no ${key} within ${ms} ms`), ms);
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  /** Waits up to `ms` for the exit, then kills. */
  const stop = async (ms = 10_000) => {
    let timer;
    await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
    child.kill('SIGKILL');
    await exited;
    return stderr;
  };
  return { child, next, stop };
}

/**
 * One round: a fresh server per contender (`{ name, dir, redisUrl?, prefix? }`: over `dir`,
 * or Redis under `prefix`), all up at once, and one client that logs `pool` visitors in on
 * each and loads each route, alternating between the servers in slices; then every
 * server's decode check. `{ [name]: { routes: { [route]: figures, served }, check, stderr } }`.
 */
export async function runContenders({ contenders, load, execArgv }) {
  const servers = contenders.map(({ name, dir, redisUrl, prefix }) => ({
    name,
    server: start(SERVER, redisUrl ? [name, dir, redisUrl, prefix] : [name, dir], execArgv),
  }));
  try {
    const targets = [];
    for (const { name, server } of servers) {
      targets.push({ name, port: await server.next('port', 30_000) });
    }
    const client = start(CLIENT, [JSON.stringify({ ...load, targets })]);
    let result;
    try {
      const perTarget = load.routes.length * (load.warmup + load.seconds + 30) * 1000;
      result = await client.next('result', 120_000 + servers.length * perTarget);
    } finally {
      await client.stop();
    }
    const runs = {};
    for (const { name, server } of servers) {
      server.child.send('check');
      const check = await server.next('check', 120_000);
      runs[name] = { routes: result[name], check, stderr: await server.stop() };
    }
    return runs;
  } finally {
    for (const { server } of servers) await server.stop(0);
  }
}

/**
 * Starts the benchmark's redis-server in a keeper process, which removes it when told to
 * (`destroy()`) or when this process goes, however it goes.
 */
export async function startRedis() {
  const keeper = start(REDIS_KEEPER, ['redis'], [], false);
  const url = await keeper.next('url', 30_000);
  return {
    url,
    destroy: async () => {
      if (keeper.child.connected) keeper.child.send('stop');
      await keeper.stop(15_000);
    },
  };
}

const sum = (values) => values.reduce((a, b) => a + b, 0);

/**
 * The HTTP level. `quick`: 2 rounds of 1.5 s per route and contender; otherwise 3 rounds
 * of 10 s. `names`: the contenders, run as two groups per round (Fastify, Express).
 * Resolves `{ markdown, results }`.
 */
export async function httpLevel({
  root,
  quick,
  log,
  names = KNOWN,
  rounds = quick ? 2 : 3,
  seconds = quick ? 1.5 : 10,
  warmup = quick ? 0.5 : 2,
  connections = 50,
  pool = 1_000,
}) {
  // Slices of about 2 s: more would spend more of each in autocannon's start and stop.
  const slices = Math.max(1, Math.round(seconds / 2));
  const load = { pool, connections, warmup, seconds, slices, routes: ROUTES };
  let redis;
  const onSignal = (signal) => {
    killAll(); // the redis keeper removes its server once this process is gone
    process.kill(process.pid, signal);
  };
  process.on('exit', killAll);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const perRound = [];
  const load1 = [loadavg()[0]];
  try {
    if (names.some(usesRedis)) {
      redis = await startRedis();
      log(`http level: redis-server ${redis.url}`);
    }
    // Each group's contenders are compared with each other, their load interleaved.
    const groups = [names.filter((name) => !isExpress(name)), names.filter(isExpress)].filter(
      (group) => group.length,
    );
    for (let round = 0; round < rounds; round += 1) {
      const measured = {};
      const order = [];
      for (const group of round % 2 ? [...groups].reverse() : groups) {
        const rotated = group.map((_, i) => group[(i + round) % group.length]);
        const contenders = [];
        for (const name of rotated) {
          const dir = join(root, 'http', `${name.replace(/\W/g, '-')}-${round}`);
          // sessionfs creates its directory on the first write, as in an app, with the
          // layout asked for: one made before would be flat.
          await mkdir(name.includes('sessionfs') ? dirname(dir) : dir, {
            recursive: true,
            mode: 0o700,
          });
          const isRedis = usesRedis(name);
          contenders.push({
            name,
            dir,
            redisUrl: isRedis ? redis.url : undefined,
            prefix: `bench${round}:${name}:`,
          });
        }
        Object.assign(measured, await runContenders({ contenders, load }));
        order.push(...rotated);
      }
      for (const name of order) {
        const run = measured[name];
        const { counter, whoami } = run.routes;
        log(
          `http level: round ${round + 1}/${rounds} ${name}: counter ${fmt(counter.rps)} req/s, whoami ${fmt(whoami.rps)} req/s, ${run.check.failed} failed decodes`,
        );
        if (run.stderr.trim()) log(`http level: ${name} server stderr: ${run.stderr.trim()}`);
      }
      perRound.push(measured);
    }
  } finally {
    process.off('exit', killAll);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    killAll();
    await redis?.destroy();
  }
  load1.push(loadavg()[0]);
  return httpReport({ perRound, names, load, rounds, load1 });
}

/** A contender's label up to its parenthesis, for ratio rows and the chart. */
const shortLabel = (name) => LABELS[name]?.split(' (')[0] ?? name;

/** The targets table's HTTP rows (targets.mjs) from the rounds' measurements, `[]` for none. */
export const httpTargets = (perRound) => httpTargetRows(perRound, floorOf, shortLabel);

/**
 * The SVG chart of the median req/s of `names`, per route: a group per kind (the Fastify file
 * stores, Redis, Express), each with its floor marked on every other contender's bars.
 */
function chartOf({ contenders, names, rounds, load }) {
  const kinds = [
    ['Fastify: file stores and MemoryStore', (name) => !usesRedis(name) && !isExpress(name)],
    ['Fastify: Redis stores', usesRedis],
    ['Express: file stores and MemoryStore', isExpress],
  ];
  const rpsOf = (name) => ({
    counter: contenders[name].counter.rps,
    whoami: contenders[name].whoami.rps,
  });
  const groups = kinds
    .map(([title, inKind]) => {
      const members = names.filter(inKind);
      const floor = members.find((name) => floorOf(name) === name);
      return {
        title,
        floor: floor && { label: shortLabel(floor).replaceAll('`', ''), rps: rpsOf(floor) },
        contenders: members.map((name) => ({
          label: `${shortLabel(name).replaceAll('`', '')}${name === floor ? ' (floor)' : ''}`,
          rps: rpsOf(name),
          isFloor: name === floor,
        })),
      };
    })
    .filter((group) => group.contenders.length);
  return barChart({
    title: 'HTTP level: requests per second per store',
    description: `Median of ${rounds} rounds of ${load.seconds} s per route, ${load.connections} connections; dashed: the group's floor.`,
    routes: [
      { key: 'counter', label: 'GET /counter (writes)' },
      { key: 'whoami', label: 'GET /whoami (reads)' },
    ],
    groups,
  });
}

/** Versions behind the Redis rows: redis-server, and the clients of both contenders. */
function redisVersions() {
  const server = /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version']).toString())?.[1];
  return `redis-server ${server}; connect-redis ${versionOf('connect-redis')} and @sessionfs/adapter-redis, both over redis ${versionOf('redis')}`;
}

/**
 * Tables, plain numbers and the chart from the rounds' measurements: `perRound[i][name]` is
 * `{ routes: { [route]: { rps, p99, errors, non2xx } }, check, stderr }`.
 */
export function httpReport({ perRound, names, load, rounds, load1 }) {
  const contenders = {};
  for (const name of names) {
    const runs = perRound.map((r) => r[name]);
    const entry = {};
    for (const route of ROUTES) {
      const figures = runs.map((run) => run.routes[route]);
      entry[route] = {
        rps: median(figures.map((f) => f.rps)),
        p99: median(figures.map((f) => f.p99)),
        errors: sum(figures.map((f) => f.errors)),
        non2xx: sum(figures.map((f) => f.non2xx)),
      };
    }
    const last = runs.at(-1).check;
    entry.stored = last.stored;
    entry.loggedIn = last.loggedIn;
    entry.otherFiles = last.other;
    entry.unsettled = sum(runs.map((run) => run.check.unsettled));
    entry.failedDecodes = sum(runs.map((run) => run.check.failed));
    contenders[name] = entry;
  }
  const ratios = [...TARGETS, ...INFO]
    .filter(([, a, b]) => names.includes(a) && names.includes(b))
    .map(([route, contender, versus, target]) => {
      const compared = compare(perRound, { route, contender, versus }, floorOf);
      const met = target ? compared.ratio >= target : undefined;
      return { ...compared, target, met };
    });

  const header = [
    'contender',
    'counter req/s',
    'p99 ms',
    'errors',
    'non-2xx',
    'who-am-I req/s',
    'p99 ms',
    'errors',
    'non-2xx',
    'sessions after (logged in / stored)',
    'failed decodes',
  ];
  const row = (name) => {
    const c = contenders[name];
    const route = (r) => [fmt(r.rps), String(r.p99), fmt(r.errors), fmt(r.non2xx)];
    return [
      LABELS[name] ?? name,
      ...route(c.counter),
      ...route(c.whoami),
      inMemory(name)
        ? `${fmt(c.loggedIn)} / ${fmt(c.stored)} (in memory)`
        : `${fmt(c.loggedIn)} / ${fmt(c.stored)}`,
      inMemory(name) ? 'n/a' : fmt(c.failedDecodes),
    ];
  };
  const how = `req/s and p99: median of ${rounds} rounds of ${load.seconds} s per route and contender (after ${load.warmup} s of warm-up), ${load.connections} connections, ${fmt(load.pool)} pre-created session cookies; in each round and group (Fastify, Express) every contender in a fresh server process, the group's all up at once, the load alternating between them in ${load.slices} slices per route (A B, B A, …); errors, non-2xx and failed decodes summed over the rounds; sessions after the last round's run. 1-minute load average ${load1.map((v) => v.toFixed(2)).join(' at the start, ')} at the end (on 2 cores, anything above the benchmark's own ~2 means other work competed)._`;
  const sections = [];
  const files = names.filter((name) => !usesRedis(name) && !isExpress(name));
  const redis = names.filter(usesRedis);
  const express = names.filter(isExpress);
  const routes =
    '`GET /counter` changes the session on every request (`views++`); `GET /whoami` only reads it (returns the stored name).';
  const fastify =
    'Fastify 5, @fastify/cookie, @fastify/session defaults (`rolling: true`, `saveUninitialized: true`), `cookie.maxAge` one day.';
  const onExpress = `Express ${versionOf('express')}, express-session ${versionOf('express-session')} (\`resave: false\`, \`saveUninitialized: false\`, \`rolling: true\`), the same cookie (\`sessionId\`, signed, \`maxAge\` one day). A changed session is \`set\`, an unchanged one \`touch\`ed: sessionfs moves its expiry, MemoryStore stores it again, session-file-store reads and writes its file again, the bare store writes its file again.`;
  // [title, setup when first, setup after another group, contenders]
  const groups = [
    ['file stores and the in-memory ceiling', fastify, fastify, files],
    [
      'Redis (one local redis-server, persistence off)',
      `${fastify} ${redisVersions()}.`,
      `The same server; ${redisVersions()}.`,
      redis,
    ],
    ['Express, file stores and the in-memory ceiling', onExpress, onExpress, express],
  ].filter(([, , , members]) => members.length);
  groups.forEach(([title, first, later, members], i) => {
    const about = i === 0 ? `${routes} ${first}\n_${how}` : `_Same routes and load. ${later}_`;
    sections.push(`### HTTP level: ${title}\n\n${about}\n\n${table(header, members.map(row))}`);
  });
  // Every run must end clean: no error, no non-2xx, every session decodes and is still there.
  const problems = names.flatMap((name) => {
    const c = contenders[name];
    const found = [];
    for (const route of ROUTES) {
      if (c[route].errors || c[route].non2xx) {
        found.push(`${route}: ${c[route].errors} errors, ${c[route].non2xx} non-2xx`);
      }
    }
    if (c.failedDecodes) found.push(`${c.failedDecodes} sessions that do not decode`);
    if (c.unsettled) found.push(`${c.unsettled} store calls still in flight 10 s after a run`);
    if (c.otherFiles) {
      found.push(`${c.otherFiles} other entries (temp files?) left beside the sessions`);
    }
    if (c.loggedIn !== load.pool || c.stored !== load.pool) {
      found.push(`${c.loggedIn} logged-in sessions of ${c.stored} stored, ${load.pool} expected`);
    }
    return found.map((text) => `${LABELS[name] ?? name}: ${text}`);
  });
  sections.push(
    problems.length
      ? `**Correctness: NOT clean.** ${problems.join('; ')}.`
      : `Correctness: every run ended with 0 errors, 0 non-2xx, every stored session decoding (${names.some(inMemory) ? 'MemoryStore aside: nothing on disk' : 'all contenders'}), and the ${fmt(load.pool)} logged-in sessions, no more, still there.`,
  );
  if (ratios.length) {
    const toFloor = (r, name) => floorCell(r.floors.find((side) => side.name === name));
    const across = ratios.some((r) => isExpress(r.contender) !== isExpress(r.versus));
    sections.push(
      `### HTTP level: ratios of req/s (within a round, median of ${rounds})\n\n${
        across
          ? '_An Express contender against a Fastify one compares two groups of the same round, run one after the other, not interleaved._\n\n'
          : ''
      }_Beside each ratio, each side against the floor of its kind, within rounds as well: the bare file store for the file stores and MemoryStore, the no-rules Redis floor for the Redis stores, the Express bare store for the Express ones._\n\n${table(
        ['route', 'ratio', 'measured', 'target', 'contender / floor', 'peer / floor'],
        ratios.map((r) => [
          r.route === 'counter' ? 'counter' : 'who am I',
          `${shortLabel(r.contender)} / ${shortLabel(r.versus)}`,
          times(r.ratio),
          r.target ? `≥ ${r.target}x: ${r.met ? 'met' : '**NOT met**'}` : '(information)',
          toFloor(r, r.contender),
          toFloor(r, r.versus),
        ]),
      )}`,
    );
  }
  return {
    markdown: sections.join('\n\n'),
    results: {
      rounds,
      ...load,
      load1,
      contenders,
      ratios,
      perRound,
      clean: problems.length === 0,
    },
    chart: chartOf({ contenders, names, rounds, load }),
  };
}

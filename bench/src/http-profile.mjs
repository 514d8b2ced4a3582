// Where the servers of the HTTP level spend their time: runs each contender's server under
// `node --cpu-prof`, once per route, with the load of http-level.mjs, and prints the self
// time per request by package (side by side) and each contender's top self-time functions.
// The .cpuprofile files are kept (paths printed) for Chrome DevTools or speedscope.
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EXPRESS_CONTENDERS,
  FILE_CONTENDERS,
  REDIS_CONTENDERS,
  REDIS_FLOOR,
  ROUTES,
  runContenders,
  startRedis,
  usesRedis,
} from './http-level.mjs';
import { table } from './util.mjs';

const KNOWN = [...FILE_CONTENDERS, ...REDIS_CONTENDERS, REDIS_FLOOR, ...EXPRESS_CONTENDERS];
const USAGE = `Usage: pnpm --filter @sessionfs/bench run profile [contenders] [seconds] [top]
  contenders  comma-separated, default sessionfs,memory; one of: ${KNOWN.join(', ')}
  seconds     of load per route and contender, default 10
  top         functions listed per contender and route, default 15
Build the packages first: pnpm turbo run build --filter=@sessionfs/bench^...`;

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const [namesText = 'sessionfs,memory', secondsText = '10', topText = '15'] = args;
const names = namesText.split(',');
const unknown = names.filter((name) => !KNOWN.includes(name));
if (unknown.length || !(Number(secondsText) > 0) || !(Number(topText) > 0)) {
  console.error(`${unknown.length ? `unknown contender: ${unknown.join(', ')}\n` : ''}${USAGE}`);
  process.exit(2);
}
const root = await mkdtemp(join(tmpdir(), 'sessionfs-profile-'));

/** Where a profiled function lives: a package, `node:` internals, or V8's own entries. */
function origin(url, functionName) {
  if (!url) return functionName.startsWith('(') ? functionName : `native: ${functionName}`;
  if (url.startsWith('node:')) return 'node: internals (JS)';
  const modules = url.match(/.*node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (modules) return modules[1];
  const workspace = url.match(/\/packages\/([^/]+)\//);
  if (workspace) return `@sessionfs/${workspace[1]}`;
  if (url.includes('/bench/src/')) return 'bench (server script)';
  return url;
}

/** Self time in ms by function and by package, from a .cpuprofile. */
function summarise(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map();
  const packages = new Map();
  const add = (map, key, ms) => map.set(key, (map.get(key) ?? 0) + ms);
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const file = url
      .replace(/^file:\/\/.*node_modules\//, '')
      .replace(/^file:\/\/.*\/(packages|bench)\//, '$1/');
    add(
      functions,
      `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`,
      ms,
    );
    add(packages, origin(url, functionName), ms);
  });
  return { functions, packages };
}

const sorted = (map) => [...map].sort((a, b) => b[1] - a[1]);
const micros = (ms, served) => ((1000 * ms) / served).toFixed(1);

let redis;
try {
  if (names.some(usesRedis)) redis = await startRedis();
  for (const route of ROUTES) {
    const runs = [];
    for (const name of names) {
      const dir = join(root, `${route}-${name.replace(/\W/g, '-')}`);
      const profiles = `${dir}-profile`;
      await mkdir(dir, { recursive: true });
      // One at a time: a profiled server must have the machine to itself.
      const { [name]: run } = await runContenders({
        contenders: [
          {
            name,
            dir,
            redisUrl: usesRedis(name) ? redis.url : undefined,
            prefix: `profile:${route}:${name}:`,
          },
        ],
        load: {
          pool: 1_000,
          connections: 50,
          warmup: 1,
          seconds: Number(secondsText),
          routes: [route],
        },
        execArgv: ['--cpu-prof', '--cpu-prof-dir', profiles],
      });
      const [file] = await readdir(profiles);
      const summary = summarise(JSON.parse(await readFile(join(profiles, file), 'utf8')));
      runs.push({ name, run, summary, file: join(profiles, file) });
    }
    console.log(`## ${route}\n`);
    for (const { name, run, file } of runs) {
      const figures = run.routes[route];
      console.log(
        `- ${name}: ${Math.round(figures.rps)} req/s, p99 ${figures.p99} ms; ${run.routes.served} requests served in all (login and warm-up included); ${file}`,
      );
    }
    // Self time per request served, by package, for every contender side by side.
    const keys = new Set(runs.flatMap(({ summary }) => [...summary.packages.keys()]));
    const rows = [...keys]
      .map((key) => [
        key,
        ...runs.map(({ run, summary }) =>
          Number(micros(summary.packages.get(key) ?? 0, run.routes.served)),
        ),
      ])
      .sort((a, b) => Math.max(...b.slice(1)) - Math.max(...a.slice(1)))
      .filter((row) => Math.max(...row.slice(1)) >= 1);
    console.log(
      `\n${table(
        ['self time per request (µs)', ...runs.map(({ name }) => name)],
        rows.map(([key, ...values]) => [key, ...values.map((v) => v.toFixed(1))]),
      )}\n`,
    );
    for (const { name, run, summary } of runs) {
      console.log(
        `${table(
          [`${name}, ${route}: top self time`, 'µs per request'],
          sorted(summary.functions)
            .filter(([key]) => key !== '(idle) ')
            .slice(0, Number(topText))
            .map(([key, ms]) => [`\`${key.trim()}\``, micros(ms, run.routes.served)]),
        )}\n`,
      );
    }
  }
} finally {
  await redis?.destroy();
}

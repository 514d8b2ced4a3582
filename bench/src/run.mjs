// `pnpm bench` (full) or `pnpm bench --quick`: prints markdown tables and saves them
// under bench/results/.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliSection, FLOOR_VARIANTS } from './cli.mjs';
import { contenderNames, httpLevel, httpTargets } from './http-level.mjs';
import { memory } from './memory.mjs';
import { ownersSection } from './owners.mjs';
import { rekeySection } from './rekey.mjs';
import { scale } from './scale.mjs';
import { storeLevel } from './store-level.mjs';
import { reaperTargetRow, targetsTable } from './targets.mjs';
import { machine, table, versionOf } from './util.mjs';
import { writesSection } from './writes.mjs';

const quick = process.argv.includes('--quick');
const only = process.argv
  .find((arg) => arg.startsWith('--only='))
  ?.slice(7)
  .split(',');
// `--contenders=sessionfs+redis,connect-redis`: only these in the HTTP level (and its ratios);
// `express` stands for every Express contender. An unknown name stops the run here.
const contenderList = process.argv
  .find((arg) => arg.startsWith('--contenders='))
  ?.slice('--contenders='.length)
  .split(',');
let contenders;
try {
  contenders = contenderList && contenderNames(contenderList);
} catch (error) {
  console.error(error.message);
  process.exit(2);
}
// `--http-rounds=7`: more rounds of the HTTP level, for a steadier median on a noisy machine.
const httpRounds = Number(
  process.argv.find((arg) => arg.startsWith('--http-rounds='))?.slice('--http-rounds='.length) ??
    Number.NaN,
);
// `--cli-sessions=N`: the CLI section's number of sessions (default 1,000,000, 100,000 with
// `--quick`); `--cli-floors=sync,concurrent-16`: only these bare loops for its floor;
// `--cli-rounds=3`: the floor and `prune` that many times each (medians), for a noisy disk;
// `--cli-prune-only`: the floor and `prune` without the read-only commands.
const cliSessions = Number(
  process.argv.find((arg) => arg.startsWith('--cli-sessions='))?.slice('--cli-sessions='.length) ??
    Number.NaN,
);
const cliRounds = Number(
  process.argv.find((arg) => arg.startsWith('--cli-rounds='))?.slice('--cli-rounds='.length) ??
    Number.NaN,
);
const cliFloors = process.argv
  .find((arg) => arg.startsWith('--cli-floors='))
  ?.slice('--cli-floors='.length)
  .split(',');
const unknownFloor = cliFloors?.find(
  (name) => !/^(sync|await-sync|concurrent-[1-9]\d*)$/.test(name),
);
if (unknownFloor) {
  console.error(
    `unknown --cli-floors loop: ${unknownFloor} (sync, await-sync or concurrent-<n>; default ${FLOOR_VARIANTS.join(',')})`,
  );
  process.exit(2);
}
const log = (message) =>
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
const started = Date.now();
const root = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'sessionfs-bench-'));

// A section is markdown, or a function of the chart's file name (the chart sits beside each
// markdown file under the same name, so the link differs between them).
const sections = [];
let http;
let big;
const wanted = (name) => !only || only.includes(name);
try {
  const info = machine();
  const versions = [
    '@sessionfs/core',
    'session-file-store',
    '@itrocks/fastify-file-session-store',
    '@fastify/session',
    'fastify',
    'express-session',
    'express',
    'autocannon',
  ].map((name) => [name, versionOf(name)]);
  sections.push(
    `# sessionfs benchmark (${quick ? 'quick' : 'full'})\n\n${new Date().toISOString()} · ${info.cpu} · ${info.cores} cores · ${info.memory} · Node ${info.node} · ${info.platform}\n\n${table(['package', 'version'], versions)}`,
  );

  if (wanted('store')) {
    const store = await storeLevel({
      root,
      sizes: quick ? [1_000, 5_000] : [1_000, 100_000],
      rounds: quick ? 2 : 5,
      sample: quick ? 300 : 500,
      seconds: quick ? 0.6 : 2,
      // Each warm-up reads a missing id, which session-file-store retries for 250 ms.
      warmup: quick ? 15 : 50,
      log,
    });
    sections.push(store.markdown);
  }

  if (wanted('http')) {
    http = await httpLevel({
      root,
      quick,
      log,
      ...(contenders ? { names: contenders } : {}),
      ...(httpRounds > 0 ? { rounds: httpRounds } : {}),
    });
    sections.push(http.markdown);
    sections.push(
      (chartFile) =>
        `![HTTP level: requests per second per store and route, floors marked](${chartFile})`,
    );
  }

  if (wanted('scale')) {
    big = await scale({
      root,
      count: quick ? 50_000 : 1_000_000,
      rounds: quick ? 2 : 3,
      sample: quick ? 300 : 500,
      seconds: quick ? 1 : 2,
      log,
    });
    sections.push(big.markdown);
  }

  if (wanted('writes')) {
    const paths = await writesSection({
      root,
      rounds: quick ? 3 : 5,
      writes: quick ? 2_000 : 5_000,
      log,
    });
    sections.push(paths.markdown);
  }

  if (wanted('rekey')) {
    const rotation = await rekeySection({ root, count: quick ? 10_000 : 100_000, log });
    sections.push(rotation.markdown);
  }

  if (wanted('memory')) {
    const heap = await memory({ root, count: quick ? 10_000 : 100_000, log });
    sections.push(heap.markdown);
  }

  if (wanted('owners')) {
    const owners = await ownersSection({
      root,
      count: quick ? 100_000 : 1_000_000,
      owned: 100,
      rounds: quick ? 3 : 5,
      log,
    });
    sections.push(owners.markdown);
  }

  if (wanted('cli')) {
    const commands = await cliSection({
      root,
      count: cliSessions > 0 ? cliSessions : quick ? 100_000 : 1_000_000,
      ...(cliFloors ? { floors: cliFloors } : {}),
      ...(cliRounds > 0 ? { rounds: cliRounds } : {}),
      readOnly: !process.argv.includes('--cli-prune-only'),
      log,
    });
    sections.push(commands.markdown);
  }
  if (http || big) {
    sections.push(
      targetsTable([...httpTargets(http?.results.perRound ?? []), reaperTargetRow(big?.results)]),
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}

sections.push(
  `_Ran in ${Math.round((Date.now() - started) / 1000)} s: \`${['pnpm bench', ...process.argv.slice(2)].join(' ')}\`._`,
);
const results = fileURLToPath(new URL('../results/', import.meta.url));
await mkdir(results, { recursive: true });
// A run of some sections or contenders only is kept apart: it never becomes the latest run.
const kind = `${quick ? 'quick' : 'full'}${only || contenders ? '-partial' : ''}`;
/** Writes the markdown as `<name>.md`, and the chart, if the run drew one, as `<name>.svg`. */
const save = async (name) => {
  const markdown = `${sections.map((section) => (typeof section === 'function' ? section(`${name}.svg`) : section)).join('\n\n')}\n`;
  await writeFile(join(results, `${name}.md`), markdown);
  if (http) await writeFile(join(results, `${name}.svg`), http.chart);
  return markdown;
};
const name = `${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
console.log(await save(name));
if (!only && !contenders) await save(`latest-${kind}`);
log(`saved ${join(results, name)}.md${http ? ' and .svg' : ''}`);

// Store level: each contender in its own fresh process, alternated round by round.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contenders, onDisk } from './contenders.mjs';
import { makeSession, sessionId } from './sessions.mjs';
import { fmt, median, ratio, run, table } from './util.mjs';

const worker = fileURLToPath(new URL('./store-worker.mjs', import.meta.url));
const OPS = [
  ['firstRead', 'get, first read in the process'],
  ['repeatedRead', 'get, repeated read'],
  ['missing', 'get of a missing id'],
  ['setChanged', 'set, changed session'],
  ['setUnchanged', 'set, unchanged session'],
  ['rolling', 'set, only the expiry moved (rolling)'],
  ['destroy', 'destroy'],
];
// What each target compares: [op, contender, floor ratio to that contender].
const TARGETS = {
  firstRead: ['bare', 1.5],
  setChanged: ['bare', 1.0],
  setUnchanged: ['bare', 20],
  missing: ['bare', 1.0],
};

/** Writes `count` sessions through each contender into its own directory. */
async function prepare(root, names, count) {
  const ids = Array.from({ length: count }, () => sessionId());
  const idsFile = join(root, `ids-${count}.txt`);
  await writeFile(idsFile, `${ids.join('\n')}\n`);
  for (const name of names.filter(onDisk)) {
    const dir = join(root, `${name}-${count}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const store = await contenders[name](dir);
    const now = Date.now();
    for (let i = 0; i < ids.length; i += 200) {
      await Promise.all(
        ids.slice(i, i + 200).map((id, j) => store.set(id, makeSession(i + j, now))),
      );
    }
    await store.close();
  }
  return idsFile;
}

export async function storeLevel({
  root,
  sizes,
  rounds,
  sample,
  seconds,
  warmup = 50,
  names = Object.keys(contenders),
  log,
}) {
  const sections = [];
  const results = {};
  for (const size of sizes) {
    log(
      `store level: preparing ${fmt(size)} sessions for ${names.filter(onDisk).length} contenders`,
    );
    const idsFile = await prepare(root, names, size);
    const perRound = [];
    for (let round = 0; round < rounds; round += 1) {
      const order = names.map((_, i) => names[(i + round) % names.length]);
      const measured = {};
      for (const name of order) {
        const { stdout } = await run(
          process.execPath,
          [
            worker,
            name,
            join(root, `${name}-${size}`),
            idsFile,
            String(Math.min(sample, Math.floor((size - warmup) / 2))),
            String(seconds),
            String(warmup),
          ],
          { maxBuffer: 1 << 20, timeout: 30 * 60_000 },
        );
        measured[name] = JSON.parse(stdout.trim().split('\n').pop());
      }
      perRound.push(measured);
      log(`store level: ${fmt(size)} sessions, round ${round + 1}/${rounds} done`);
    }
    const med = (name, op) => median(perRound.map((r) => r[name][op]));
    const ratioIn = (op, a, b) => median(perRound.map((r) => r[a][op] / r[b][op]));
    const rows = OPS.map(([op, label]) => {
      const target = TARGETS[op];
      const within = target ? ratioIn(op, 'sessionfs', target[0]) : Number.NaN;
      return [
        label,
        ...names.map((name) => fmt(med(name, op))),
        target
          ? `${within.toFixed(2)}x vs ${target[0]} (target ≥ ${target[1]}x${within >= target[1] ? ', met' : ', NOT met'})`
          : '',
      ];
    });
    results[size] = Object.fromEntries(
      OPS.map(([op]) => [op, Object.fromEntries(names.map((name) => [name, med(name, op)]))]),
    );
    results[size].ratios = Object.fromEntries(
      Object.entries(TARGETS).map(([op, [other]]) => [op, ratioIn(op, 'sessionfs', other)]),
    );
    sections.push(
      `### Store level, ${fmt(size)} sessions on disk (ops/s, median of ${rounds} rounds)\n\n${table(
        ['operation', ...names, 'sessionfs ratio (within round)'],
        rows,
      )}`,
    );
  }
  return { markdown: sections.join('\n\n'), results, ratio };
}

// Scale: get and set rates with a very large directory against a small one, and the
// reaper removing every expired session of the large one.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore, sessionKey } from '@sessionfs/core';
import { makeSession } from './sessions.mjs';
import { fmt, median, run, table } from './util.mjs';

const storeWorker = fileURLToPath(new URL('./store-worker.mjs', import.meta.url));
const reapWorker = fileURLToPath(new URL('./scale-worker.mjs', import.meta.url));

/**
 * A directory of `count` sessions in sessionfs's format, written directly (one file
 * each, no temp file: this is setup, not a measurement). Every session has already
 * expired, except `live` of them, whose ids go to a file for the rate measurements.
 */
async function fill(dir, count, live) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // One real record, written by the store, reused for every file: records hold no id.
  const sampleDir = `${dir}-record`;
  const store = createSessionStore({
    adapter: createNodeAdapter({ dir: sampleDir }),
    reapInterval: false,
  });
  await store.set('sample', makeSession(1));
  await store.close();
  const record = readFileSync(join(sampleDir, sessionKey('sample')));
  const liveIds = [];
  const future = (Date.now() + 24 * 60 * 60 * 1000) / 1000;
  for (let i = 0; i < count; i += 1) {
    const id = randomBytes(16).toString('hex');
    const path = join(dir, sessionKey(id));
    writeFileSync(path, record, { mode: 0o600 });
    if (i < live) {
      utimesSync(path, future, future);
      liveIds.push(id);
    }
  }
  const idsFile = `${dir}.ids`;
  writeFileSync(idsFile, `${liveIds.join('\n')}\n`);
  return idsFile;
}

export async function scale({ root, count, rounds, sample, seconds, log }) {
  const live = sample * 2 + 60;
  const small = join(root, 'scale-small');
  const large = join(root, 'scale-large');
  log(`scale: writing ${fmt(live)} and ${fmt(count)} sessions`);
  const smallIds = await fill(small, live, live);
  const started = performance.now();
  const largeIds = await fill(large, count, live);
  log(
    `scale: ${fmt(count)} files written in ${Math.round((performance.now() - started) / 1000)} s`,
  );

  const ratios = { firstRead: [], setChanged: [], missing: [] };
  const rates = { small: [], large: [] };
  for (let round = 0; round < rounds; round += 1) {
    const measured = {};
    const order = round % 2 ? ['large', 'small'] : ['small', 'large'];
    for (const which of order) {
      const [dir, ids] = which === 'small' ? [small, smallIds] : [large, largeIds];
      const { stdout } = await run(
        process.execPath,
        [storeWorker, 'sessionfs', dir, ids, String(sample), String(seconds)],
        {
          maxBuffer: 1 << 20,
          timeout: 10 * 60_000,
        },
      );
      measured[which] = JSON.parse(stdout.trim().split('\n').pop());
    }
    rates.small.push(measured.small);
    rates.large.push(measured.large);
    for (const op of Object.keys(ratios)) ratios[op].push(measured.large[op] / measured.small[op]);
    log(`scale: rates round ${round + 1}/${rounds} done`);
  }

  // The disk's own floors, each on a tenth of the same directory: bare synchronous loops,
  // one that removes what it finds expired, one that removes only that very file.
  const floorCount = Math.floor((count - live) / 10);
  const bareLoop = async (flag, what) => {
    log(`scale: removing ${fmt(floorCount)} expired files with a bare loop (${what})`);
    const { stdout } = await run(process.execPath, [reapWorker, large, flag, String(floorCount)], {
      maxBuffer: 1 << 20,
      timeout: 30 * 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop());
  };
  const floor = await bareLoop('--floor', "the disk's floor");
  const takeFloor = await bareLoop('--take-floor', 'the floor of removing only the file checked');
  log(
    `scale: reaping the other ${fmt(count - live - floor.removed - takeFloor.removed)} expired sessions`,
  );
  const { stdout } = await run(process.execPath, [reapWorker, large], {
    maxBuffer: 1 << 20,
    timeout: 30 * 60_000,
  });
  const reaped = JSON.parse(stdout.trim().split('\n').pop());
  const left = readdirSync(large).length;

  const rows = [
    [
      'get, first read',
      ...['small', 'large'].map((w) => fmt(median(rates[w].map((r) => r.firstRead)))),
      `${median(ratios.firstRead).toFixed(2)}x`,
    ],
    [
      'get of a missing id',
      ...['small', 'large'].map((w) => fmt(median(rates[w].map((r) => r.missing)))),
      `${median(ratios.missing).toFixed(2)}x`,
    ],
    [
      'set, changed session',
      ...['small', 'large'].map((w) => fmt(median(rates[w].map((r) => r.setChanged)))),
      `${median(ratios.setChanged).toFixed(2)}x`,
    ],
  ];
  const results = {
    count,
    floor,
    takeFloor,
    firstReadRatio: median(ratios.firstRead),
    setChangedRatio: median(ratios.setChanged),
    reaped,
    left,
  };
  const met = (ok) => (ok ? 'met' : 'NOT met');
  const markdown = [
    `### Scale: ${fmt(live)} against ${fmt(count)} sessions on disk (sessionfs, ops/s, median of ${rounds} rounds)`,
    table(
      ['operation', `${fmt(live)} sessions`, `${fmt(count)} sessions`, 'ratio (target ≥ 0.8x)'],
      rows,
    ),
    `Targets: get ${met(results.firstReadRatio >= 0.8)}, set ${met(results.setChangedRatio >= 0.8)}.`,
    `### Reaper: ${fmt(reaped.removed)} expired sessions removed`,
    table(
      [
        'scanned',
        'removed',
        'seconds',
        'files/s (target ≥ 20,000)',
        'event-loop delay p99 (target < 50 ms)',
        'max',
        'files left',
        "bare loop, files/s (the disk's floor)",
        'bare take loop, files/s (the floor of removing only the file checked)',
      ],
      [
        [
          fmt(reaped.scanned),
          fmt(reaped.removed),
          reaped.seconds.toFixed(1),
          fmt(reaped.filesPerSecond),
          `${reaped.delayP99Ms.toFixed(1)} ms`,
          `${reaped.delayMaxMs.toFixed(1)} ms`,
          fmt(left),
          fmt(floor.filesPerSecond),
          fmt(takeFloor.filesPerSecond),
        ],
      ],
    ),
    `Targets: ${met(reaped.filesPerSecond >= 20_000)} (speed), ${met(reaped.delayP99Ms < 50)} (event-loop delay). The ${fmt(live)} unexpired sessions stay. The bare loop (\`readdir\`, \`statSync\`, \`unlinkSync\`, nothing else) removed ${fmt(floor.removed)} of the same files first, in ${floor.seconds.toFixed(1)} s: the reaper runs at ${(reaped.filesPerSecond / floor.filesPerSecond).toFixed(2)}x of what this disk allows. The reaper must not remove a session saved between its check and its removal, so it takes each expired file (renames it aside, checks it is the file it found expired, and only then removes it): the bare take loop (\`lstat\`, \`rename\`, \`lstat\`, \`unlink\`) removed ${fmt(takeFloor.removed)} more at ${fmt(takeFloor.filesPerSecond)} files/s, and the reaper runs at ${(reaped.filesPerSecond / takeFloor.filesPerSecond).toFixed(2)}x of that.`,
  ].join('\n\n');
  return { markdown, results };
}

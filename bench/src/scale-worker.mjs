// Fresh process: runs the reaper over a directory of expired sessions and reports its
// speed and the event-loop delay while it ran. Usage: node scale-worker.mjs <dir>
// With `--floor <count>` it instead removes up to <count> expired files with the plainest
// synchronous loop (readdir, statSync, unlinkSync): what the disk allows, for comparison.
// With `--take-floor <count>`, the plainest loop that removes only the very file it found
// expired, as the reaper must (lstat, rename to a held name, lstat, unlink): what the disk
// allows for that.
import { lstatSync, opendirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore } from '@sessionfs/core';

const [dir, flag, limitText] = process.argv.slice(2);
const removals = {
  '--floor': (path) => {
    unlinkSync(path);
  },
  '--take-floor': (path, checked) => {
    const held = `${path}.held`;
    renameSync(path, held);
    if (lstatSync(held).ino === checked.ino) unlinkSync(held);
  },
};
if (flag in removals) {
  const remove = removals[flag];
  const check = flag === '--floor' ? statSync : lstatSync;
  const limit = Number(limitText);
  const now = Date.now();
  const listing = opendirSync(dir, { bufferSize: 256 });
  const started = performance.now();
  let removed = 0;
  for (
    let entry = listing.readSync();
    entry !== null && removed < limit;
    entry = listing.readSync()
  ) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    const checked = check(path);
    if (checked.mtimeMs > now) continue;
    remove(path, checked);
    removed += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  listing.closeSync();
  process.stdout.write(
    `${JSON.stringify({ removed, seconds, filesPerSecond: removed / seconds })}\n`,
  );
  process.exit(0);
}
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const store = createSessionStore({
  adapter: createNodeAdapter({ dir }),
  reapInterval: false,
  logger: silent,
});
const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const started = performance.now();
const { scanned, removed } = await store.reap();
const seconds = (performance.now() - started) / 1000;
delay.disable();
await store.close();
process.stdout.write(
  `${JSON.stringify({
    scanned,
    removed,
    seconds,
    filesPerSecond: removed / seconds,
    delayP99Ms: delay.percentile(99) / 1e6,
    delayMaxMs: delay.max / 1e6,
  })}\n`,
);

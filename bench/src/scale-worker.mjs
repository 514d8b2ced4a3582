// Fresh process: runs the reaper over a directory of expired sessions and reports its
// speed and the event-loop delay while it ran. Usage: node scale-worker.mjs <dir>
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore } from '@sessionfs/core';

const [dir] = process.argv.slice(2);
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

// Fresh process: `count` sessions sealed with one key, then `store.rekey()` to another,
// timed, with the event-loop delay measured throughout (as a server doing it would feel).
// Usage: node rekey-worker.mjs <dir> <count>
import { createHash, randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore } from '@sessionfs/core';
import { makeSession } from './sessions.mjs';

const [dir, countText] = process.argv.slice(2);
const count = Number(countText);
const key = (label) => createHash('sha256').update(label).digest('hex');
const [oldKey, newKey] = [key('bench rekey old'), key('bench rekey new')];
const silent = { warn() {}, error() {} };
const open = (keys) =>
  createSessionStore({
    adapter: createNodeAdapter({ dir }),
    reapInterval: false,
    logger: silent,
    encryption: { keys },
  });

const writer = open([oldKey]);
let next = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (next < count) {
      const i = next++;
      await writer.set(randomBytes(16).toString('hex'), makeSession(i));
    }
  }),
);
await writer.close();

const store = open([newKey, oldKey]);
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const started = performance.now();
const result = await store.rekey();
const seconds = (performance.now() - started) / 1000;
delay.disable();
await store.close();
process.stdout.write(
  `${JSON.stringify({
    count,
    seconds,
    rekeyed: result.rekeyed,
    failed: result.failed,
    rate: result.rekeyed / seconds,
    p99Ms: delay.percentile(99) / 1e6,
    maxMs: delay.max / 1e6,
  })}\n`,
);

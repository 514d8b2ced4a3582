// Fresh process (run with --expose-gc): heap and RSS growth after `count` distinct
// sessions passed through a store with default options.
// Usage: node --expose-gc memory-worker.mjs <dir> <count>
import { randomBytes } from 'node:crypto';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore } from '@sessionfs/core';
import { makeSession } from './sessions.mjs';

const [dir, countText] = process.argv.slice(2);
const count = Number(countText);
const settle = () => {
  globalThis.gc();
  globalThis.gc();
};
const store = createSessionStore({ adapter: createNodeAdapter({ dir }), reapInterval: false });
await store.set('warm-up', makeSession(0));
await store.get('warm-up');
settle();
const before = process.memoryUsage();
const started = performance.now();
for (let i = 0; i < count; i += 1) {
  const id = randomBytes(16).toString('hex');
  await store.set(id, makeSession(i));
  await store.get(id);
}
const seconds = (performance.now() - started) / 1000;
settle();
const after = process.memoryUsage();
await store.close();
process.stdout.write(
  `${JSON.stringify({
    count,
    seconds,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    rssBefore: before.rss,
    rssAfter: after.rss,
  })}\n`,
);

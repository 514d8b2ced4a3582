// One contender, one fresh process: measures each store operation and prints JSON.
// Usage: node store-worker.mjs <contender> <dir> <ids file> <sample> <seconds per op> [<warm-up ids, default 50>]
import { readFileSync } from 'node:fs';
import { contenders } from './contenders.mjs';
import { makeSession, rolled, sessionId } from './sessions.mjs';

const [name, dir, idsFile, sampleText, secondsText, warmupText = '50'] = process.argv.slice(2);
const sample = Number(sampleText);
const budgetMs = Number(secondsText) * 1000;
const ids = readFileSync(idsFile, 'utf8').trim().split('\n');
const store = await contenders[name](dir);

if (name === 'memory') {
  // The in-memory ceiling starts with the same sessions the others have on disk.
  for (const [index, id] of ids.entries()) await store.set(id, makeSession(index));
}

/** Runs `operation` over `items` one at a time, within the time budget; ops per second. */
async function measure(items, operation) {
  const started = performance.now();
  let done = 0;
  for (const item of items) {
    await operation(item);
    done += 1;
    if (performance.now() - started > budgetMs) break;
  }
  return Math.round(done / ((performance.now() - started) / 1000));
}

// Disjoint slices so every "first read" is the first touch of that id in this process.
const shuffled = [...ids.keys()].sort(() => Math.random() - 0.5);
const warmupCount = Number(warmupText);
const warmup = shuffled.slice(0, warmupCount);
const reads = shuffled.slice(warmupCount, warmupCount + sample);
const destroys = shuffled.slice(warmupCount + sample, warmupCount + sample * 2);
const sessions = new Map();

// Warm every code path on other ids first: "first read" means the session was not read
// before in this process, not that the JIT has never seen the code.
for (const index of warmup) {
  const session = (await store.get(ids[index])) ?? makeSession(index);
  await store.get(ids[index]);
  await store.get(sessionId());
  await store.set(ids[index], { ...session, views: -1 });
  await store.set(ids[index], { ...session, views: -1 });
  await store.set(ids[index], rolled({ ...session, views: -1 }));
}

const result = {};
result.firstRead = await measure(reads, async (index) => {
  sessions.set(index, await store.get(ids[index]));
});
result.repeatedRead = await measure(reads, (index) => store.get(ids[index]));
result.missing = await measure(
  Array.from({ length: sample }, () => sessionId()),
  (id) => store.get(id),
);
const changed = new Map(
  reads.map((index) => [index, { ...sessions.get(index), views: Math.random() }]),
);
result.setChanged = await measure(reads, (index) => store.set(ids[index], changed.get(index)));
result.setUnchanged = await measure(reads, (index) => store.set(ids[index], changed.get(index)));
result.rolling = await measure(reads, (index) => store.set(ids[index], rolled(changed.get(index))));
result.destroy = await measure(destroys, (index) => store.destroy(ids[index]));

// Put back what this run destroyed, untimed, so the next round finds the same sessions.
for (const index of destroys) await store.set(ids[index], makeSession(index));
await store.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);

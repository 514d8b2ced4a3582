// The writes section's measuring process: concurrent writes of different sessions, the way
// a server under load makes them, through each write path in turn, round after round.
//   node writes-worker.mjs <dir> <rounds> <writes per round>
// Prints one JSON line: { [path]: writes/s per round }.

import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { createNodeAdapter } from '@sessionfs/adapter-node';

const [root, roundsArg, writesArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg);
const WRITES = Number(writesArg);
/** As many writes under way at once as the HTTP level's connections. */
const CONCURRENCY = 50;
const KEYS = Array.from({ length: 1_000 }, () => `s.${randomBytes(16).toString('hex')}`);
const VALUE = randomBytes(300);
const expiry = () => Date.now() / 1000 + 3_600;
let counter = 0;
const tempOf = (dir, key) => {
  counter += 1;
  return join(dir, `.${key}.${process.pid}.${counter}.tmp`);
};

/** The sequence the adapter made before: six round trips, one after the other. */
async function sixSteps(dir, key) {
  const temp = tempOf(dir, key);
  const handle = await fs.promises.open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(VALUE);
    await handle.utimes(Date.now() / 1000, expiry());
    await handle.stat();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(temp, join(dir, key));
}

/** The same calls, those that do not depend on each other at once: four round trips. */
async function fourSteps(dir, key) {
  const temp = tempOf(dir, key);
  const handle = await fs.promises.open(temp, 'wx', 0o600);
  let closing;
  try {
    await Promise.all([handle.writeFile(VALUE), handle.stat()]);
    await handle.utimes(Date.now() / 1000, expiry());
    closing = handle.close();
    await fs.promises.rename(temp, join(dir, key));
  } finally {
    await (closing ?? handle.close());
  }
}

/** The whole sequence as one task of a worker thread, synchronous there. */
const WORKER_SOURCE = `
const fs = require('node:fs');
const { join } = require('node:path');
const { parentPort, threadId } = require('node:worker_threads');
let counter = 0;
parentPort.on('message', ({ id, dir, key, value, mtime }) => {
  const temp = join(dir, '.' + key + '.' + process.pid + '-' + threadId + '.' + (counter += 1) + '.tmp');
  const fd = fs.openSync(temp, 'wx', 0o600);
  let stats;
  try {
    fs.writeSync(fd, value);
    fs.futimesSync(fd, Date.now() / 1000, mtime);
    stats = fs.fstatSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temp, join(dir, key));
  parentPort.postMessage({ id, version: stats.ino + ':' + stats.birthtimeMs + ':' + stats.size });
});`;

function workerPool(size) {
  const workers = Array.from({ length: size }, () => new Worker(WORKER_SOURCE, { eval: true }));
  const pending = new Map();
  let next = 0;
  for (const worker of workers) {
    worker.unref();
    worker.on('message', ({ id }) => {
      pending.get(id)();
      pending.delete(id);
    });
  }
  return (dir, key) =>
    new Promise((resolve) => {
      next += 1;
      const id = next;
      pending.set(id, resolve);
      workers[id % size].postMessage({ id, dir, key, value: VALUE, mtime: expiry() });
    });
}

const adapterWrite = (options) => {
  const adapters = new Map();
  return (dir, key) => {
    let adapter = adapters.get(dir);
    if (!adapter) {
      adapter = createNodeAdapter({ dir, ...options });
      adapters.set(dir, adapter);
    }
    return adapter.write(key, VALUE, { expiresAt: Date.now() + 3_600_000 });
  };
};

const PATHS = {
  'adapter, flat directory': adapterWrite({}),
  'adapter, sharded directory': adapterWrite({ layout: 'sharded' }),
  "adapter, `sync: 'all'` (on the event loop)": adapterWrite({ sync: 'all' }),
  'six round trips, one after the other': sixSteps,
  'four round trips, independent calls at once': fourSteps,
  'worker thread, one task per write': workerPool(1),
  'two worker threads, one task per write': workerPool(2),
};

async function measure(write, dir) {
  let started = 0;
  const begin = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < WRITES) {
        started += 1;
        await write(dir, KEYS[(Math.random() * KEYS.length) | 0]);
      }
    }),
  );
  return WRITES / ((performance.now() - begin) / 1000);
}

const rates = Object.fromEntries(Object.keys(PATHS).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round += 1) {
  const names = Object.keys(PATHS);
  // The order rotates, so that a slow stretch of the machine falls on every path.
  const rotated = names.map((_, index) => names[(index + round) % names.length]);
  for (const [index, name] of rotated.entries()) {
    const dir = join(root, `${round}-${index}`);
    // The bare sequences write into a directory made beforehand; the adapter makes its own.
    if (!name.startsWith('adapter')) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    rates[name].push(await measure(PATHS[name], dir));
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
console.log(JSON.stringify(rates));
process.exit(0);

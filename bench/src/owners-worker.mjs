// The owners section's measurements, in a process of its own (see owners.mjs). Prints one
// JSON line: per backend, the medians and maxima of `sessionsOf` and `destroyOwner`, and
// the floor.
//
// Usage: node owners-worker.mjs <root> <sessions> <owned> <rounds> [<redis url>]
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { opendir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createRedisAdapter } from '@sessionfs/adapter-redis';
import { createSessionStore, ownerKey, sessionKey } from '@sessionfs/core';
import { sampleRecord, writeSessions } from './cli-files.mjs';
import { makeSession, sessionId } from './sessions.mjs';
import { median } from './util.mjs';

const REDIS_PREFIX = 'bench-owners:';
/** Commands sent at once while filling Redis. */
const REDIS_BATCH = 5_000;

const [root, countText, ownedText, roundsText, redisUrl] = process.argv.slice(2);
const count = Number(countText);
const owned = Number(ownedText);
const rounds = Number(roundsText);
/** The owner measured; every other session belongs to one of `otherOwners` users, ten each. */
const OWNER = 'bench-owner';
const SESSIONS_PER_OTHER_OWNER = 10;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const ownerOf = (session) => session.user?.id;

const started = performance.now();
const others = count - owned;
const otherOwners = Math.ceil(others / SESSIONS_PER_OTHER_OWNER);

/**
 * The session directory with `others` sessions of other owners, indexed as the node
 * adapter indexes them (`.owners/<owner>/<key>`, a symbolic link per session), written
 * directly: a million saves through the store would take the run's whole budget.
 */
async function populateDirectory(dir) {
  const sample = await sampleRecord(join(root, 'scratch'));
  const kept = writeSessions(dir, others, 'live', sample, { keep: true });
  const index = join(dir, '.owners');
  mkdirSync(index, { mode: sample.dirMode });
  const ownerDirs = Array.from({ length: otherOwners }, (_, owner) => {
    const ownerDir = join(index, ownerKey(`user-${owner}`));
    mkdirSync(ownerDir, { mode: sample.dirMode });
    return ownerDir;
  });
  // The link's target is never read: only the entry's name counts.
  kept.forEach(({ id }, i) => {
    symlinkSync('entry', join(ownerDirs[i % otherOwners], sessionKey(id)));
  });
}

/** Stores the owner's `owned` sessions through `store`; resolves their ids. */
async function storeOwned(store) {
  const ids = Array.from({ length: owned }, () => sessionId());
  await Promise.all(
    ids.map((id, i) => {
      const session = makeSession(i);
      session.user.id = OWNER;
      return store.set(id, session);
    }),
  );
  return ids;
}

/** The least any index can do: list the owner's entries, remove their records and entries. */
async function floor(dir) {
  const ownerDir = join(dir, '.owners', ownerKey(OWNER));
  const begin = performance.now();
  const names = [];
  for await (const entry of await opendir(ownerDir)) names.push(entry.name);
  await Promise.all(
    names.map(async (name) => {
      await unlink(join(dir, name));
      await unlink(join(ownerDir, name));
    }),
  );
  const ms = performance.now() - begin;
  if (names.length !== owned) throw new Error(`floor listed ${names.length} of ${owned}`);
  return ms;
}

async function measure(label, kind, writer, reader, floorOf) {
  const sessionsOfMs = [];
  const destroyOwnerMs = [];
  const floorMs = [];
  for (let round = 0; round < rounds; round += 1) {
    await storeOwned(writer);
    let begin = performance.now();
    let found = 0;
    for await (const _ of reader.sessionsOf(OWNER)) found += 1;
    sessionsOfMs.push(performance.now() - begin);
    if (found !== owned) throw new Error(`${label}: sessionsOf yielded ${found} of ${owned}`);
    begin = performance.now();
    const ended = await reader.destroyOwner(OWNER);
    destroyOwnerMs.push(performance.now() - begin);
    if (ended !== owned) throw new Error(`${label}: destroyOwner ended ${ended} of ${owned}`);
    if (floorOf) {
      await storeOwned(writer);
      floorMs.push(await floorOf());
    }
  }
  const stats = (values) => ({ medianMs: median(values), maxMs: Math.max(...values) });
  return {
    label,
    kind,
    sessionsOf: stats(sessionsOfMs),
    destroyOwner: stats(destroyOwnerMs),
    ...(floorOf ? { floorMs: median(floorMs) } : {}),
  };
}

const backends = [];
const filesDir = join(root, 'files', 'sessions');
await populateDirectory(filesDir);
const setupSeconds = (performance.now() - started) / 1000;
{
  // One store saves the owner's sessions, another (a fresh one, as in another process)
  // looks them up and ends them.
  const open = () =>
    createSessionStore({
      adapter: createNodeAdapter({ dir: filesDir }),
      owner: ownerOf,
      reapInterval: false,
      logger: silent,
    });
  const writer = open();
  const reader = open();
  backends.push(
    await measure('files (node adapter, flat)', 'files', writer, reader, () => floor(filesDir)),
  );
  await writer.close();
  await reader.close();
  rmSync(join(root, 'files'), { recursive: true, force: true });
}

/**
 * Redis with `others` sessions of other owners, each in its owner's set as the adapter keeps
 * them (`<prefix>.owners:<owner>`), written directly, pipelined: the measured calls never
 * read them, they make the owner one among many.
 */
async function populateRedis(client, sample) {
  const expiresAt = String(Date.now() + 24 * 60 * 60_000);
  const ownerSets = Array.from(
    { length: otherOwners },
    (_, owner) => `${REDIS_PREFIX}.owners:${ownerKey(`user-${owner}`)}`,
  );
  for (let first = 0; first < others; first += REDIS_BATCH) {
    const commands = [];
    for (let i = first; i < Math.min(others, first + REDIS_BATCH); i += 1) {
      const key = sessionKey(sessionId());
      commands.push(
        client.sendCommand(['SET', `${REDIS_PREFIX}${key}`, sample, 'PXAT', expiresAt]),
      );
      commands.push(client.sendCommand(['SADD', ownerSets[i % otherOwners], key]));
    }
    await Promise.all(commands);
  }
  for (let first = 0; first < otherOwners; first += REDIS_BATCH) {
    await Promise.all(
      ownerSets
        .slice(first, first + REDIS_BATCH)
        .map((set) => client.sendCommand(['PEXPIREAT', set, expiresAt])),
    );
  }
}

let redisSetupSeconds;
if (redisUrl) {
  const begin = performance.now();
  const { createClient } = await import('redis');
  const client = createClient({ url: redisUrl });
  await client.connect();
  await populateRedis(client, JSON.stringify(makeSession(0)));
  redisSetupSeconds = (performance.now() - begin) / 1000;
  const open = () =>
    createSessionStore({
      adapter: createRedisAdapter({ url: redisUrl, prefix: REDIS_PREFIX }),
      owner: ownerOf,
      reapInterval: false,
      logger: silent,
    });
  const writer = open();
  const reader = open();
  backends.push(await measure('Redis (one server)', 'redis', writer, reader));
  await writer.close();
  await reader.close();
  await client.sendCommand(['FLUSHALL']);
  await client.quit();
}

console.log(
  JSON.stringify({ count, owned, otherOwners, setupSeconds, redisSetupSeconds, backends }),
);

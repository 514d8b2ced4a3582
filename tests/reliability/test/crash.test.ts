// Crash safety: child processes write large sessions through the node adapter and are
// killed with SIGKILL at random moments, hundreds of times. No kill may leave a torn
// session, lose an acknowledged write, or leave temp files that the store does not clean.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore } from '@sessionfs/core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { unseal } from './fixtures/sealed-session.mjs';
import {
  directoryContents,
  fixture,
  makeSessionDirectory,
  spawnNode,
  waitFor,
} from './support/children.js';
import { recordingLogger } from './support/logger.js';
import { collect } from './support/operations.js';
import { SIZE, testTimeout } from './support/size.js';

/**
 * Two writers at a time, each killed and restarted over and over, over one directory;
 * each owns its ids, so that the order of its acknowledged writes is known.
 */
const LANES = [
  ['alpha', 'beta', 'gamma'],
  ['delta', 'epsilon', 'zeta'],
];
const IDS = LANES.flat();
/** How long a writer lives once it starts writing: kills land anywhere in a write. */
const MAX_LIFE_MS = 60;
/** The age past which the store's reaper takes a temp file for a dead write's leftover. */
const LEFTOVER_AGE_MS = 60_000;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-crash-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** A write, ordered by the writer's life (its cycle), then by its sequence within it. */
type Stamp = { writer: number; seq: number };
type Found = Stamp | { broken: string } | null;
const notOlder = (a: Stamp, b: Stamp) =>
  a.writer > b.writer || (a.writer === b.writer && a.seq >= b.seq);

/** What the writers had acknowledged, and every way a read back disagreed with it. */
class Ledger {
  readonly acknowledged = new Map<string, Stamp>();
  readonly problems: string[] = [];
  writes = 0;

  /** A session read back under `id` must be whole, and no older than its last acknowledged write. */
  check(where: string, id: string, found: Found): void {
    const last = this.acknowledged.get(id);
    const seen = JSON.stringify(found);
    if (found === null) {
      if (last) this.problems.push(`${where}: ${id} missing, acknowledged ${JSON.stringify(last)}`);
    } else if ('broken' in found) {
      this.problems.push(`${where}: ${id} broken: ${found.broken}`);
    } else if (last && !notOlder(found, last)) {
      this.problems.push(`${where}: ${id} holds ${seen}, older than ${JSON.stringify(last)}`);
    }
  }
}

/** Starts a writer over `ids`, kills it at a random moment once it writes; resolves when it died. */
async function killOneWriter(dir: string, cycle: number, ids: string[], ledger: Ledger) {
  // Both write paths of the adapter: asynchronous ('auto'), and synchronous ('all').
  const sync = cycle % 2 === 0 ? 'auto' : 'all';
  const child = spawnNode(fixture('crash-writer.mjs'), [dir, String(cycle), sync, ids.join(',')]);
  let ready = false;
  child.onLine((line) => {
    const message = JSON.parse(line);
    if (message.ready) {
      ready = true;
      setTimeout(() => child.process.kill('SIGKILL'), Math.random() * MAX_LIFE_MS);
    } else if (message.wrote !== undefined) {
      ledger.acknowledged.set(message.wrote, { writer: cycle, seq: message.seq });
      ledger.writes += 1;
    } else {
      const found = message.missing ? null : message.broken ? { broken: message.broken } : message;
      ledger.check(`writer ${cycle} on start`, message.read, found);
    }
  });
  if (!(await waitFor(() => ready, 20_000))) child.process.kill('SIGKILL');
  const { signal } = await child.exited;
  expect(signal, `writer ${cycle} died on its own:\n${child.stderr()}`).toBe('SIGKILL');
  expect(ready, `writer ${cycle} never got ready:\n${child.stderr()}`).toBe(true);
}

it.each(['flat', 'sharded'] as const)(
  `survives ${SIZE.crash.kills} SIGKILLs mid-write (%s directory): whole sessions, no lost write, no leftovers`,
  async (layout) => {
    const dir = join(root, `sessions-${layout}`);
    await makeSessionDirectory(dir, layout);
    const ledger = new Ledger();
    const started = Date.now();
    let kills = 0;
    const within = () => kills < SIZE.crash.kills && Date.now() - started < SIZE.crash.budgetMs;
    await Promise.all(
      LANES.map(async (ids) => {
        while (within()) {
          const cycle = kills++;
          await killOneWriter(dir, cycle, ids, ledger);
        }
      }),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`crash: ${kills} SIGKILLs in ${seconds} s, ${ledger.writes} acknowledged writes`);
    expect(kills).toBeGreaterThanOrEqual(SIZE.crash.kills);
    expect(ledger.problems).toEqual([]);

    // Afterwards: every id reads back whole and no older than acknowledged, and every
    // file on disk is a session that decodes.
    const contents = await directoryContents(dir);
    expect(contents.others).toEqual([]);
    // In the shards of a sharded directory, in the directory itself otherwise.
    expect(contents.sessions.every((name) => name.includes('/'))).toBe(layout === 'sharded');
    const { logger, warnings, errors, infos } = recordingLogger();
    const store = createSessionStore({
      adapter: createNodeAdapter({ dir }),
      reapInterval: false,
      logger,
    });
    for (const id of IDS) {
      const session = await store.get(id);
      ledger.check('after the kills', id, session === null ? null : unseal(session, id));
    }
    expect(ledger.problems).toEqual([]);
    const entries = await collect(store.entries());
    for (const [id, session] of entries) expect(unseal(session, id)).not.toHaveProperty('broken');
    expect(entries).toHaveLength(contents.sessions.length);
    expect(await store.length()).toBe(contents.sessions.length);

    // Kills landed mid-write, leaving temp files. The reaper leaves those younger than a
    // minute alone (another process may still be writing them), and removes older ones
    // (a long run of kills leaves some).
    console.log(`crash: ${contents.temps.length} temp files left by interrupted writes`);
    expect(contents.temps.length).toBeGreaterThan(0);
    const ages = await Promise.all(
      contents.temps.map(async (name) => Date.now() - (await stat(join(dir, name))).ctimeMs),
    );
    const old = contents.temps.filter(
      (_, index) => (ages[index] as number) > LEFTOVER_AGE_MS + 5_000,
    );
    const young = contents.temps.filter(
      (_, index) => (ages[index] as number) < LEFTOVER_AGE_MS - 5_000,
    );
    const { leftovers } = await store.reap();
    const remaining = (await directoryContents(dir)).temps;
    for (const name of young) expect(remaining).toContain(name);
    for (const name of old) expect(remaining).not.toContain(name);
    expect(leftovers).toBe(contents.temps.length - remaining.length);
    await store.close();

    // A store started a minute later removes the rest in its first reaper pass.
    const reapsBefore = infos.length;
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + LEFTOVER_AGE_MS + 1_000);
      const restarted = createSessionStore({
        adapter: createNodeAdapter({ dir }),
        reapInterval: 50,
        logger,
      });
      const reaped = await waitFor(() => infos.length > reapsBefore, 10_000);
      await restarted.close();
      expect(reaped, 'the first reaper pass ran').toBe(true);
    } finally {
      vi.useRealTimers();
    }
    expect(infos[reapsBefore]?.fields).toMatchObject({ leftovers: remaining.length });
    expect(await directoryContents(dir)).toEqual({ ...contents, temps: [] });
    expect([...warnings, ...errors]).toEqual([]);
  },
  testTimeout(SIZE.crash.budgetMs),
);

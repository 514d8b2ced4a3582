// Concurrency: four processes share one directory and run thousands of random
// get/set/touch/destroy on a few ids, each logging its operations on the machine's
// monotonic clock. Afterwards every record decodes, no temp file is left, every read was
// possible given the writes around it, and every process (and a fresh one) reads the
// last write of each id. Then the same with the cache on, in shared mode. Then the owner
// index: processes log users in and out of shared sessions and end owners' sessions at
// once; at rest every owner's sessions are found and ended exactly, and an owner ended
// while the others run, after everyone stopped logging them in, keeps no session.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore, type SessionStore } from '@sessionfs/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unseal } from './fixtures/sealed-session.mjs';
import {
  type Child,
  directoryContents,
  fixture,
  makeSessionDirectory,
  spawnNode,
  waitFor,
} from './support/children.js';
import { recordingLogger } from './support/logger.js';
import { collect } from './support/operations.js';
import { SIZE, testTimeout } from './support/size.js';

const IDS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** A write's value: the writing process and its sequence number. */
type Stamp = [writer: number, seq: number];
interface LoggedOperation {
  worker: number;
  op: 'get' | 'set' | 'touch' | 'destroy';
  id: string;
  start: number;
  end: number;
  /** What a set wrote. */
  value?: Stamp;
  /** What a get read. */
  result?: Stamp | null | { broken: string };
  /** A set of a value this worker wrote before (see the worker). */
  resave?: boolean;
  error?: string;
}
type Final = Record<string, Stamp | null | { broken: string }>;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-concurrency-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

const same = (a: Stamp | undefined, b: unknown) =>
  Array.isArray(b) && a !== undefined && a[0] === b[0] && a[1] === b[1];

/**
 * What a read of `id` over [start, end] may return, given every write of the id
 * (sets and destroys) with the interval in which it took effect. Returns why not.
 */
function impossibleRead(
  read: LoggedOperation,
  writes: LoggedOperation[],
  lazy: boolean,
): string | null {
  // With lazy expiry moves, a save of a value written before may be skipped, leaving what
  // another worker wrote meanwhile: it may be the source of what a read returns, but it
  // replaces nothing for sure.
  const certain = lazy ? writes.filter((write) => !write.resave) : writes;
  const { result } = read;
  if (result !== null && result !== undefined && !Array.isArray(result)) {
    return `a broken session: ${result.broken}`;
  }
  if (result === null || result === undefined) {
    // Null is impossible after a set that ended before the read began, unless a destroy
    // may come between the two.
    const hidden = certain.find(
      (set) =>
        set.op === 'set' &&
        set.end < read.start &&
        !writes.some((d) => d.op === 'destroy' && d.start < read.end && d.end > set.start),
    );
    return hidden ? `null, after set ${JSON.stringify(hidden)}` : null;
  }
  // A value must come from a set that began before the read ended and that no other write
  // replaced entirely between its end and the read's start.
  const possible = writes.some(
    (set) =>
      set.op === 'set' &&
      same(set.value, result) &&
      set.start < read.end &&
      !certain.some(
        (other) => !same(other.value, result) && other.start > set.end && other.end < read.start,
      ),
  );
  return possible ? null : `${JSON.stringify(result)}, stale or never written`;
}

/** The values the id may hold once every process stopped: those of the writes no other write followed. */
function finalCandidates(writes: LoggedOperation[], lazy: boolean): (Stamp | null)[] {
  if (writes.length === 0) return [null];
  const certain = lazy ? writes.filter((write) => !write.resave) : writes;
  return writes
    .filter((write) => !certain.some((other) => other !== write && other.start > write.end))
    .map((write) => (write.op === 'set' ? (write.value as Stamp) : null));
}

/** A worker process and the messages it printed. */
function startWorker(args: string[]) {
  const child: Child = spawnNode(fixture('concurrent-worker.mjs'), args);
  const messages: { done?: boolean; final?: Final }[] = [];
  child.onLine((line) => messages.push(JSON.parse(line)));
  return { child, messages };
}

describe.each([
  ['off', '0', 'flat'],
  ['shared', '0', 'flat'],
  ['off', 'default', 'flat'],
  ['shared', 'default', 'flat'],
  ['off', '0', 'sharded'],
  ['shared', 'default', 'sharded'],
] as const)(
  'four processes over one directory, cache %s, touchAfter %s, %s layout',
  (cache, touchAfter, layout) => {
    const lazy = touchAfter !== '0';
    it(
      `${SIZE.concurrency.processes} × ${SIZE.concurrency.operations} random operations: whole records, possible reads, last writes win`,
      async () => {
        const dir = join(root, `sessions-${cache}-${touchAfter}-${layout}`);
        await makeSessionDirectory(dir, layout);
        const base = process.hrtime.bigint();
        const started = Date.now();
        const spawnWorker = (worker: number, operations: number) =>
          startWorker([
            dir,
            String(worker),
            String(operations),
            cache,
            IDS.join(','),
            join(root, `log-${cache}-${touchAfter}-${layout}-${worker}.jsonl`),
            String(base),
            touchAfter,
          ]);
        const workers = Array.from({ length: SIZE.concurrency.processes }, (_, worker) =>
          spawnWorker(worker, SIZE.concurrency.operations),
        );
        try {
          const finished = await waitFor(
            () => workers.every(({ messages }) => messages.some((message) => message.done)),
            SIZE.concurrency.budgetMs,
          );
          expect(finished, workers.map(({ child }) => child.stderr()).join('\n')).toBe(true);
          const seconds = ((Date.now() - started) / 1000).toFixed(1);
          console.log(
            `concurrency (cache ${cache}): ${workers.length} processes done in ${seconds} s`,
          );

          const log: LoggedOperation[] = [];
          for (let worker = 0; worker < workers.length; worker += 1) {
            const text = await readFile(
              join(root, `log-${cache}-${touchAfter}-${layout}-${worker}.jsonl`),
              'utf8',
            );
            log.push(...text.split('\n').map((line) => JSON.parse(line) as LoggedOperation));
          }
          expect(log.filter((entry) => entry.error !== undefined)).toEqual([]);
          expect(log).toHaveLength(SIZE.concurrency.processes * SIZE.concurrency.operations);

          // Every read was possible, given the writes around it.
          const writesOf = (id: string) =>
            log.filter(
              (entry) => entry.id === id && (entry.op === 'set' || entry.op === 'destroy'),
            );
          const impossible = IDS.flatMap((id) => {
            const writes = writesOf(id);
            return log
              .filter((entry) => entry.id === id && entry.op === 'get')
              .flatMap((read) => {
                const why = impossibleRead(read, writes, lazy);
                return why === null ? [] : [`${JSON.stringify(read)}: ${why}`];
              });
          });
          expect(impossible.slice(0, 10)).toEqual([]);

          // Once all stopped, every process, and a fresh one, reads the last write of each id.
          const fresh = spawnWorker(workers.length, 0);
          const everyone = [...workers, fresh];
          expect(await waitFor(() => fresh.messages.some((message) => message.done), 20_000)).toBe(
            true,
          );
          for (const { child } of everyone) child.process.stdin?.write('final\n');
          const answered = await waitFor(
            () => everyone.every(({ messages }) => messages.some((message) => message.final)),
            20_000,
          );
          expect(answered).toBe(true);
          const finals = everyone.map(
            ({ messages }) => messages.find((message) => message.final)?.final as Final,
          );
          const freshFinal = finals[finals.length - 1] as Final;
          for (const id of IDS) {
            const candidates = finalCandidates(writesOf(id), lazy);
            expect(candidates, `${id}: the fresh process reads a last write`).toContainEqual(
              freshFinal[id],
            );
          }
          finals.forEach((final, worker) => {
            expect(final, `process ${worker} agrees with a fresh one`).toEqual(freshFinal);
          });
        } finally {
          for (const { child } of workers) child.process.stdin?.end();
          await Promise.all(workers.map(({ child }) => child.exited));
        }

        // Every record on disk decodes; no temp file and nothing set aside.
        const contents = await directoryContents(dir);
        expect(contents.temps).toEqual([]);
        expect(contents.others).toEqual([]);
        const { logger, warnings, errors } = recordingLogger();
        const store = createSessionStore({
          adapter: createNodeAdapter({ dir }),
          reapInterval: false,
          logger,
        });
        const entries = await collect(store.entries());
        expect(entries).toHaveLength(contents.sessions.length);
        for (const [id, session] of entries)
          expect(unseal(session, id)).not.toHaveProperty('broken');
        expect([...warnings, ...errors]).toEqual([]);
        await store.close();
      },
      testTimeout(SIZE.concurrency.budgetMs),
    );
  },
);

/**
 * The shared sessions. Half the operations pick one of the first three, so that processes
 * often change one session at once; sessions of the retiring owner among the others
 * outlast the moment she is ended.
 */
const OWNER_IDS = 'abcdefghijkl'.split('');
const HOT_IDS = 3;
/** How long the processes run between two pauses. */
const RUN_BETWEEN_PAUSES_MS = 100;
/** Who logs in (the workers read owners from their arguments: strings). */
const LOGGING_IN = ['alice', 'bob', '42'];
/** Who stops logging in halfway, and is then ended while the others carry on. */
const RETIRING = 'mallory';

interface OwnerWorkerMessage {
  warm?: boolean;
  paused?: number;
  retired?: boolean;
  done?: boolean;
  operations?: number;
  counts?: Record<string, number>;
  errors?: string[];
  wrong?: string[];
}
/** What the owner workers write: a user or none, and data no other write has. */
interface OwnedSession {
  user?: { id: string };
  writer: number;
  seq: number;
}

/** Every live session a full scan (`entries()`, no index) finds, by id, with its owner. */
async function scan(store: SessionStore<OwnedSession>) {
  const sessions = new Map(await collect(store.entries()));
  const of = (owner: string) =>
    new Map([...sessions].filter(([, session]) => session.user?.id === owner));
  return { sessions, of };
}

describe.each([
  ['off', 'flat'],
  ['shared', 'sharded'],
] as const)('the owner index across processes, cache %s, %s layout', (cache, layout) => {
  it(
    `${SIZE.concurrency.processes} processes log in, log out and end owners on ${OWNER_IDS.length} shared sessions: each owner's sessions found and ended exactly`,
    async () => {
      const dir = join(root, `owners-${cache}-${layout}`);
      await makeSessionDirectory(dir, layout);
      const started = Date.now();
      let listener = () => {};
      const heard = () => listener();
      const workers = Array.from({ length: SIZE.concurrency.processes }, (_, worker) => {
        const child = spawnNode(fixture('owner-worker.mjs'), [
          dir,
          String(worker),
          String(SIZE.concurrency.operations),
          cache,
          OWNER_IDS.join(','),
          String(HOT_IDS),
          [...LOGGING_IN, RETIRING].join(','),
          RETIRING,
          String(SIZE.concurrency.budgetMs),
        ]);
        const messages: OwnerWorkerMessage[] = [];
        child.onLine((line) => {
          messages.push(JSON.parse(line));
          heard();
        });
        return { child, messages };
      });
      const tell = (line: string) => {
        for (const { child } of workers) child.process.stdin?.write(`${line}\n`);
      };
      type Said = (message: OwnerWorkerMessage) => boolean | undefined;
      const allSaid = (said: Said) => workers.every(({ messages }) => messages.some(said));
      /**
       * Resolves true as soon as every worker said it (on the line that completes it, not at
       * the next poll: the others write meanwhile), false after `timeoutMs`.
       */
      const allSay = (said: Said, timeoutMs: number) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          listener = () => {
            if (!allSaid(said)) return;
            clearTimeout(timer);
            resolve(true);
          };
          listener();
        });
      const stderr = () => workers.map(({ child }) => child.stderr()).join('\n');
      const { logger, warnings, errors } = recordingLogger();
      const open = () =>
        createSessionStore<OwnedSession>({
          adapter: createNodeAdapter({ dir }),
          reapInterval: false,
          owner: (session) => session.user?.id,
          logger,
        });
      const during = open();
      try {
        expect(await allSay((m) => m.warm, SIZE.concurrency.budgetMs), stderr()).toBe(true);

        // While the others run: mallory's sessions ended, after every process stopped
        // logging her in, must leave none of hers. Why that holds, and needs the wait:
        // - A removal of an index entry (OwnerRules.leave) briefly hides the entry, and a
        //   removal that began before her last login could hide her newest session from a
        //   destroyOwner that lists right then. Each process says "retired" only once every
        //   operation it started before the word "retire" is over, so once all have said it,
        //   every operation still running began after her last login ended.
        // - Such an operation removes an entry of hers only after it wrote the session for
        //   someone else, deleted it, or read it as not hers; every later version of the
        //   record is not hers either (no one logs her in any more). So no entry of a session
        //   that is hers goes missing while destroyOwner lists, and it finds them all.
        // - destroyOwner removes each only in the version it read as hers; one someone else
        //   logged into meanwhile is no longer hers. No new session of hers appears after.
        tell('retire');
        expect(await allSay((m) => m.retired, 20_000), stderr()).toBe(true);
        const endedDuringRun = await during.destroyOwner(RETIRING);
        const leftDuringRun = [...(await scan(during)).of(RETIRING).keys()];
        // The others were writing all along (none ran out of operations: two thirds remain).
        const stillRunning = workers.every(({ messages }) => !messages.some((m) => m.done));
        expect(leftDuringRun, `${RETIRING}'s sessions after destroyOwner, during the run`).toEqual(
          [],
        );
        expect(stillRunning, 'every process still ran while destroyOwner did').toBe(true);

        // Now and then every process pauses, once the operations it runs are over: at rest,
        // every owner's sessions are found, and only theirs. A lost entry would be found
        // again by the next save of that session under its owner: looking often, while
        // sessions change hands, finds it before that.
        for (let pause = 1; pause <= SIZE.concurrency.ownerPauses; pause += 1) {
          await sleep(RUN_BETWEEN_PAUSES_MS);
          tell('pause');
          expect(await allSay((m) => m.paused === pause, 20_000), stderr()).toBe(true);
          const checker = open();
          try {
            const { of } = await scan(checker);
            for (const owner of [...LOGGING_IN, RETIRING]) {
              const served = new Map(await collect(checker.sessionsOf(owner)));
              expect(served, `pause ${pause}: sessionsOf(${owner}) against a full scan`).toEqual(
                of(owner),
              );
            }
          } finally {
            await checker.close();
          }
          tell('resume');
        }

        // The others run on to the end of their operations.
        expect(await allSay((m) => m.done, SIZE.concurrency.budgetMs), stderr()).toBe(true);
        const reports = workers.map(
          ({ messages }) => messages.find((message) => message.done) as OwnerWorkerMessage,
        );
        expect(
          reports.flatMap((report) => report.errors ?? []),
          'errors in workers',
        ).toEqual([]);
        // sessionsOf never served a session its owner did not hold when it was read.
        expect(
          reports.flatMap((report) => report.wrong ?? []),
          'wrong sessions served',
        ).toEqual([]);
        const total = (count: string) =>
          reports.reduce((sum, report) => sum + (report.counts?.[count] ?? 0), 0);
        console.log(
          `owner index (cache ${cache}, ${layout}): ${total('logins')} logins, ${total('logouts')} logouts, ${total('destroys')} destroys, ${total('sessionsOf')} sessionsOf, ${total('destroyOwner')} destroyOwner (${total('ended')} ended) in ${((Date.now() - started) / 1000).toFixed(1)} s; ${endedDuringRun} of ${RETIRING}'s ended during the run`,
        );
      } finally {
        for (const { child } of workers) {
          child.process.stdin?.write('stop\n');
          child.process.stdin?.end();
        }
        await Promise.all(workers.map(({ child }) => child.exited));
      }

      // At rest, through a store that never saw a write: the index hides no session and
      // serves no wrong one, and destroyOwner ends exactly the owner's sessions.
      const fresh = open();
      let remaining = (await scan(fresh)).sessions;
      const held: string[] = [];
      for (const owner of [...LOGGING_IN, RETIRING]) {
        const theirs = (await scan(fresh)).of(owner);
        held.push(`${owner} ${theirs.size}`);
        const served = new Map(await collect(fresh.sessionsOf(owner)));
        expect(served, `sessionsOf(${owner}) against a full scan`).toEqual(theirs);
        expect(await fresh.destroyOwner(owner), `destroyOwner(${owner})`).toBe(theirs.size);
        const after = (await scan(fresh)).sessions;
        expect([...after.keys()].sort(), `what destroyOwner(${owner}) left`).toEqual(
          [...remaining.keys()].filter((id) => !theirs.has(id)).sort(),
        );
        remaining = after;
      }
      // Only sessions nobody is logged into are left.
      for (const [id, session] of remaining) expect(session.user, id).toBeUndefined();
      console.log(`at rest, sessions held: ${held.join(', ')}, nobody ${remaining.size}`);
      expect([...warnings, ...errors], 'what the stores of the test logged').toEqual([]);
      await fresh.close();
      await during.close().catch(() => {});
    },
    testTimeout(SIZE.concurrency.budgetMs),
  );
});

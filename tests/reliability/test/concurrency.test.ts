// Concurrency: four processes share one directory and run thousands of random
// get/set/touch/destroy on a few ids, each logging its operations on the machine's
// monotonic clock. Afterwards every record decodes, no temp file is left, every read was
// possible given the writes around it, and every process (and a fresh one) reads the
// last write of each id. Then the same with the cache on, in shared mode.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore } from '@sessionfs/core';
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

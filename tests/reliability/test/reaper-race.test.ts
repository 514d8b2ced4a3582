// The reaper against live sessions, across processes: one process reaps the directory in
// a loop while another keeps short-lived sessions alive around their expiry (written again
// once expired, saved again just before or after it, touched just before it) and checks,
// through a second store, that every acknowledged save stays readable until its expiry.
// A reaper that checks a record's expiry and then deletes its path deletes whatever was
// written there in between.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Child, fixture, spawnNode, waitFor } from './support/children.js';
import { SIZE, testTimeout } from './support/size.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-reaper-race-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

interface WriterReport {
  saves: number;
  touches: number;
  checks: number;
  lostCount: number;
  lost: unknown[];
}

function linesOf(child: Child): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  child.onLine((line) => lines.push(JSON.parse(line)));
  return lines;
}

// Two reapers in two processes share the directory's take lock; one is enough with
// every call going through libuv's thread pool.
describe.each([
  ['auto', 2],
  ['none', 1],
] as const)(
  'the reaper looping in other processes (sync %s, reaper processes: %i)',
  (sync, reaperCount) => {
    it(
      `loses no acknowledged session in ${SIZE.reaperRace.durationMs / 1000} s of saves around expiry`,
      async () => {
        const dir = join(root, `sessions-${sync}`);
        const reapers = Array.from({ length: reaperCount }, () => {
          const child = spawnNode(fixture('reaper-loop.mjs'), [dir, sync]);
          return { child, lines: linesOf(child) };
        });
        try {
          for (const { child, lines } of reapers) {
            expect(await waitFor(() => lines.length > 0, 20_000), child.stderr()).toBe(true);
          }
          const writer = spawnNode(fixture('reaper-race-writer.mjs'), [
            dir,
            String(SIZE.reaperRace.ids),
            String(SIZE.reaperRace.durationMs),
            sync,
          ]);
          const writerLines = linesOf(writer);
          const finished = await waitFor(
            () => writerLines.length > 0,
            SIZE.reaperRace.durationMs + 30_000,
          );
          expect(finished, writer.stderr()).toBe(true);
          for (const { child } of reapers) child.process.stdin?.write('stop\n');
          for (const { child, lines } of reapers) {
            expect(await waitFor(() => lines.length > 1, 30_000), child.stderr()).toBe(true);
          }
          const report = writerLines[0] as unknown as WriterReport;
          const reaped = reapers.map(
            ({ lines }) => lines[1] as { rounds: number; removed: number },
          );
          const removed = reaped.reduce((sum, { removed }) => sum + removed, 0);
          console.log(
            `reaper race (sync ${sync}, reaper processes: ${reaperCount}): ${report.saves} saves, ${report.touches} touches, ${report.checks} checks; reapers removed ${removed} expired sessions in ${reaped.map(({ rounds }) => rounds).join(' + ')} rounds; lost ${report.lostCount}`,
          );
          // The race was run: the reapers removed expired sessions while saves went on.
          expect(removed).toBeGreaterThan(100);
          expect(report.checks).toBeGreaterThan(1_000);
          expect(report.lost).toEqual([]);
          expect(report.lostCount).toBe(0);
          expect(writer.stderr()).toBe('');
          for (const { child } of reapers) expect(child.stderr()).toBe('');
        } finally {
          for (const { child } of reapers) {
            child.process.stdin?.end();
            child.process.kill();
            await child.exited;
          }
        }
      },
      testTimeout(SIZE.reaperRace.durationMs + 60_000),
    );
  },
);

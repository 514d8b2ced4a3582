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

describe.each(['auto', 'none'])('the reaper looping in another process (sync %s)', (sync) => {
  it(
    `loses no acknowledged session in ${SIZE.reaperRace.durationMs / 1000} s of saves around expiry`,
    async () => {
      const dir = join(root, `sessions-${sync}`);
      const reaper = spawnNode(fixture('reaper-loop.mjs'), [dir, sync]);
      const reaperLines = linesOf(reaper);
      try {
        expect(await waitFor(() => reaperLines.length > 0, 20_000), reaper.stderr()).toBe(true);
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
        reaper.process.stdin?.write('stop\n');
        expect(await waitFor(() => reaperLines.length > 1, 30_000), reaper.stderr()).toBe(true);
        const report = writerLines[0] as unknown as WriterReport;
        const reaped = reaperLines[1] as { rounds: number; removed: number };
        console.log(
          `reaper race (sync ${sync}): ${report.saves} saves, ${report.touches} touches, ${report.checks} checks, ${reaped.rounds} reaper rounds removed ${reaped.removed} expired sessions; lost ${report.lostCount}`,
        );
        // The race was run: the reaper removed expired sessions while saves went on.
        expect(reaped.removed).toBeGreaterThan(100);
        expect(report.checks).toBeGreaterThan(1_000);
        expect(report.lost).toEqual([]);
        expect(report.lostCount).toBe(0);
        expect(writer.stderr()).toBe('');
        expect(reaper.stderr()).toBe('');
      } finally {
        reaper.process.stdin?.end();
        reaper.process.kill();
        await reaper.exited;
      }
    },
    testTimeout(SIZE.reaperRace.durationMs + 60_000),
  );
});

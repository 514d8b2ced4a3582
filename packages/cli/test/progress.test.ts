// Long commands show how far they are: a bar with rate and ETA on a terminal (driven here
// in a pseudo-terminal), plain lines in a log; and Ctrl+C stops them cleanly, so that a
// rerun goes on where they stopped.
import type { ChildProcess } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  appStore,
  finished,
  HOUR,
  lines,
  runCli,
  runInTerminal,
  sessionDir,
  spawnCli,
} from './support.js';

/** An export file of `count` sessions, one hour from now. */
async function exportFile(count: number): Promise<{ dir: string; file: string }> {
  const dir = await sessionDir();
  const file = join(dir, '..', 'sessions.ndjson');
  const expiresAt = new Date(Date.now() + HOUR).toISOString();
  const rows: string[] = [];
  for (let i = 0; i < count; i += 1) {
    rows.push(JSON.stringify({ id: `imported-${i}`, expiresAt, session: { user: { id: i } } }));
  }
  await writeFile(file, `${rows.join('\n')}\n`);
  return { dir, file };
}

const PLAIN_LINE = /^import: [\d,]+\/3,000 sessions, [\d,]+\/s, \d+s elapsed, ETA \S+$/;

describe('progress', () => {
  it('writes plain lines with the rate and ETA when stderr is not a terminal', async () => {
    const { dir, file } = await exportFile(3_000);
    const run = await runCli(['import', file, '--dir', dir], {
      env: { SESSIONFS_PROGRESS_MS: '100' },
    });
    expect(run.code).toBe(0);
    const progress = lines(run.stderr);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const line of progress) expect(line).toMatch(PLAIN_LINE);
    expect(progress.at(-1)).toMatch(/^import: 3,000\/3,000 sessions, .* ETA 0s$/);
    // Nothing of the progress reaches stdout, which scripts read.
    expect(lines(run.stdout)[0]).toBe('imported 3,000 sessions');
  });

  it('writes none for a command done before the first line is due, nor with --quiet', async () => {
    const { dir, file } = await exportFile(10);
    expect((await runCli(['import', file, '--dir', dir])).stderr).toBe('');
    const quiet = await runCli(['export', '--dir', dir, '--quiet'], {
      env: { SESSIONFS_PROGRESS_MS: '1' },
    });
    expect(quiet.stderr).toBe('');
    expect(lines(quiet.stdout)).toHaveLength(10);
  });

  it('draws a bar, redrawn in place, with percentage, rate and ETA on a terminal', async () => {
    const { dir, file } = await exportFile(3_000);
    const run = await runInTerminal(['import', file, '--dir', dir]);
    expect(run.code).toBe(0);
    // The bar is redrawn over itself: carriage returns, and the cursor hidden meanwhile.
    expect(run.stdout).toContain('\r');
    expect(run.stdout).toContain('\u001b[?25l');
    expect(run.stdout).toMatch(
      /import \[[\u2588\u2591]{24}\] 100% \| 3,000\/3,000 sessions \| [\d,]+\/s \| ETA 0s/,
    );
    expect(run.stdout).toContain('imported 3,000 sessions');
  });
});

/** Resolves once `child` printed a progress line with a session imported, or exited. */
function underWay(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    let printed = '';
    const onData = (chunk: Buffer | string) => {
      printed += chunk;
      if (/^import: [1-9]/m.test(printed)) done();
    };
    const done = () => {
      child.stderr?.off('data', onData);
      resolve();
    };
    child.stderr?.on('data', onData);
    child.once('exit', done);
  });
}

describe('Ctrl+C', () => {
  it('stops an import between two sessions, exits 130, and a rerun imports the rest', async () => {
    const { dir, file } = await exportFile(20_000);
    const child = spawnCli(['import', file, '--dir', dir], {
      env: { SESSIONFS_PROGRESS_MS: '100' },
    });
    child.stdin?.end();
    const done = finished(child);
    // Interrupted once the import is under way: after a progress line counting a session
    // imported (on a loaded machine the first line may come before any).
    await underWay(child);
    child.kill('SIGINT');
    const stopped = await done;
    expect(stopped.code).toBe(130);
    expect(stopped.stderr).toContain('sessionfs: stopping after the sessions under way');
    expect(stopped.stdout).toContain('stopped before the end: run the same import again to go on');
    const imported = Number(
      /^imported ([\d,]+) sessions$/m.exec(stopped.stdout)?.[1]?.replaceAll(',', ''),
    );
    expect(imported).toBeGreaterThan(0);
    expect(imported).toBeLessThan(20_000);

    // Nothing half-written: every file is a whole session, and no temp file is left.
    const store = appStore(dir);
    let whole = 0;
    for await (const record of store.inspect({ sessions: true })) {
      expect(record.state).toBe('live');
      whole += 1;
    }
    expect(whole).toBe(imported);
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);

    const rerun = await runCli(['import', file, '--dir', dir, '-q']);
    expect(rerun.code).toBe(0);
    expect(lines(rerun.stdout)).toEqual([
      `imported ${(20_000 - imported).toLocaleString('en-US')} sessions`,
      `skipped ${imported.toLocaleString('en-US')} already in the store, 0 expired, 0 unreadable`,
    ]);
    expect(await store.count()).toBe(20_000);
    // Two imports of 20,000 sessions: about 10 s on a quiet 2-core machine, three times
    // that on a loaded one.
  }, 90_000);
});

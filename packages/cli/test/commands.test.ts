// The `sessionfs` binary over a real session directory, as an operator runs it: what each
// command prints, what it exits with, and that the reading ones change nothing.
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import {
  appStore,
  cookieSession,
  finished,
  HOUR,
  lines,
  runCli,
  saveMany,
  sessionDir,
  snapshot,
  spawnCli,
} from './support.js';

const LONG_ID = `long-${'y'.repeat(200)}`;

/** A directory the way an app leaves it: live sessions, an expired one, a corrupt one. */
async function appDirectory() {
  const dir = await sessionDir();
  const store = appStore(dir);
  for (let i = 0; i < 5; i += 1) {
    await store.set(`user-${i}`, cookieSession({ user: { id: i } }, (i + 1) * HOUR));
  }
  await store.set('big', { blob: 'x'.repeat(150_000) }, { expiresAt: Date.now() + 3 * 24 * HOUR });
  await store.set(LONG_ID, cookieSession({ user: { id: 'long' } }));
  await store.set('gone', { user: 'old' }, { expiresAt: Date.now() - 60_000 });
  // Garbage under a session key, whose file time (the node adapter's expiry) is an hour ahead.
  const garbage = join(dir, sessionKey('garbage'));
  await writeFile(garbage, 'not a record', { mode: 0o600 });
  const inAnHour = new Date(Date.now() + HOUR);
  await utimes(garbage, inAnHour, inAnHour);
  return { dir, store };
}

describe('stats', () => {
  it('counts live and expired sessions, bytes and leftovers, and draws when they expire', async () => {
    const { dir } = await appDirectory();
    const before = await snapshot(dir);
    const human = await runCli(['stats', '--dir', dir]);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(human.stdout).toMatch(/^sessions\s+8 live, 1 expired \(not yet pruned\)$/m);
    expect(human.stdout).toMatch(/^leftovers\s+0 of interrupted writes, 0 records set aside$/m);
    expect(human.stdout).toMatch(/^ {2}1h to 6h\s+#+\s+4$/m);

    const json = await runCli(['stats', '--dir', dir, '--json']);
    const figures = JSON.parse(json.stdout);
    expect(figures).toMatchObject({ live: 8, expired: 1, interruptedWrites: 0, setAside: 0 });
    expect(figures.bytes).toBeGreaterThan(150_000);
    expect(figures.latestExpiry - Date.now()).toBeGreaterThan(2.9 * 24 * HOUR);
    // It read everything and changed nothing: the expired session is still there.
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('ls', () => {
  it('lists live sessions one a line, with filters, and NDJSON for scripts', async () => {
    const { dir } = await appDirectory();
    const before = await snapshot(dir);
    const all = await runCli(['ls', '--dir', dir]);
    expect(all.code).toBe(0);
    const ids = lines(all.stdout).map((line) => line.split(/\s+/).at(-1));
    expect(ids.sort()).toEqual(
      ['big', 'garbage', LONG_ID, 'user-0', 'user-1', 'user-2', 'user-3', 'user-4'].sort(),
    );

    const expired = await runCli(['ls', '--dir', dir, '--expired', '--json']);
    expect(lines(expired.stdout).map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ id: 'gone', key: sessionKey('gone'), state: 'expired' }),
    ]);
    const soon = await runCli(['ls', '--dir', dir, '--expiring-within', '150m', '--json']);
    expect(
      lines(soon.stdout)
        .map((line) => JSON.parse(line).id)
        .sort(),
    ).toEqual(['garbage', LONG_ID, 'user-0', 'user-1'].sort());
    const large = await runCli(['ls', '--dir', dir, '--larger-than', '100kB', '--json']);
    expect(lines(large.stdout).map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ id: 'big', size: expect.any(Number) }),
    ]);
    expect(JSON.parse(lines(large.stdout)[0] as string).size).toBeGreaterThan(150_000);
    expect(await snapshot(dir)).toEqual(before);
  });

  it('rejects a filter it cannot read, with exit code 2 and one line', async () => {
    const dir = await sessionDir();
    appStore(dir);
    await appStore(dir).set('a', { n: 1 });
    const run = await runCli(['ls', '--dir', dir, '--larger-than', 'big']);
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      'sessionfs: ERR_USAGE: "big" is not a size. write it as 512, 100kB, 1MB or 4KiB',
    ]);
  });
});

describe('show', () => {
  it('prints one session decoded, pretty or raw, by id or by file, changing nothing', async () => {
    const { dir } = await appDirectory();
    const before = await snapshot(dir);
    const pretty = await runCli(['show', 'user-2', '--dir', dir]);
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toMatch(
      /^id {7}user-2\nstate {4}live\nexpires {2}\S+Z \(in (2h 59m|3h 00m)\)\nsize/,
    );
    expect(pretty.stdout).toContain('{\n  "user": {\n    "id": 2\n  },');

    const raw = await runCli(['show', LONG_ID, '--dir', dir, '--json']);
    expect(JSON.parse(raw.stdout)).toMatchObject({ user: { id: 'long' } });
    expect(lines(raw.stdout)).toHaveLength(1);

    const byFile = await runCli(['show', '--file', join(dir, sessionKey('gone'))]);
    expect(byFile.code).toBe(0);
    expect(byFile.stdout).toMatch(/^state {4}expired$/m);
    expect(byFile.stdout).toContain('"user": "old"');
    expect(await snapshot(dir)).toEqual(before);
  });

  it('says what is wrong with a missing or corrupt session, exit code 1, and moves nothing', async () => {
    const { dir } = await appDirectory();
    const before = await snapshot(dir);
    const missing = await runCli(['show', 'nobody', '--dir', dir]);
    expect(missing.code).toBe(1);
    expect(lines(missing.stderr)).toEqual([
      'sessionfs: ERR_NOT_FOUND: no session "nobody" in this store. list the sessions with: sessionfs ls',
    ]);
    const corrupt = await runCli(['show', 'garbage', '--dir', dir]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stdout).toMatch(/^state {4}corrupt \(.+\)$/m);
    expect(corrupt.stderr).toMatch(/^sessionfs: ERR_CORRUPT: the record cannot be read: /);
    // `get` would have set it aside; `show` leaves it for the operator.
    expect(await snapshot(dir)).toEqual(before);
  });
});

describe('rm, prune and clear', () => {
  it('rm removes the sessions named and reports those that were not there', async () => {
    const { dir, store } = await appDirectory();
    const run = await runCli(['rm', 'user-0', 'user-1', 'nobody', '--dir', dir]);
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual(['removed 2 sessions', 'not found: nobody']);
    expect(await store.get('user-0')).toBeNull();
    expect(await store.get('user-2')).not.toBeNull();
  });

  it('prune removes expired sessions only, and leaves corrupt ones for the app to set aside', async () => {
    const { dir, store } = await appDirectory();
    const run = await runCli(['prune', '--dir', dir]);
    expect(run.code).toBe(0);
    expect(lines(run.stdout)[0]).toMatch(/^pruned 1 expired session of 9 looked at, in \d+\.\d s$/);
    expect(await store.count()).toBe(8);
    expect(await store.inspectKey(sessionKey('gone'))).toBeNull();
    expect(await store.get('user-4')).toMatchObject({ user: { id: 4 } });
  });

  it('clear refuses without --yes and removes nothing; with it, removes every session', async () => {
    const { dir, store } = await appDirectory();
    const before = await snapshot(dir);
    const refused = await runCli(['clear', '--dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^sessionfs: ERR_USAGE: clear removes every session .*add --yes/,
    );
    expect(await snapshot(dir)).toEqual(before);
    const done = await runCli(['clear', '--dir', dir, '--yes']);
    expect(done).toMatchObject({ code: 0, stdout: 'removed 9 sessions\n' });
    expect(await store.count()).toBe(0);
  });
});

describe('export and import', () => {
  it('moves sessions between directories keeping their expiry, never over a stored one', async () => {
    const { dir, store } = await appDirectory();
    const exported = await runCli(['export', '--dir', dir]);
    expect(exported.code).toBe(0);
    expect(exported.stderr).toBe('exported 7 sessions; left out 1 expired, 1 unreadable\n');
    const records = lines(exported.stdout).map((line) => JSON.parse(line));
    expect(records.map((record) => record.id).sort()).toEqual(
      ['big', LONG_ID, 'user-0', 'user-1', 'user-2', 'user-3', 'user-4'].sort(),
    );

    const target = await sessionDir();
    const other = appStore(target);
    // Someone logged in on the target already, under an id the export holds too.
    await other.set('user-3', cookieSession({ user: { id: 'theirs' } }));
    const imported = await runCli(['import', '--dir', target], { input: exported.stdout });
    expect(imported.code).toBe(0);
    expect(lines(imported.stdout)).toEqual([
      'imported 6 sessions',
      'skipped 1 already in the store, 0 expired, 0 unreadable',
    ]);
    expect(await other.get('user-3')).toMatchObject({ user: { id: 'theirs' } });
    for (const id of ['user-0', 'user-4', LONG_ID, 'big']) {
      const [source, copy] = await Promise.all([
        store.inspectKey(sessionKey(id), { sessions: true }),
        other.inspectKey(sessionKey(id), { sessions: true }),
      ]);
      expect(copy?.expiresAt).toBe(source?.expiresAt);
      expect(copy?.session).toEqual(source?.session);
    }
    // A second run (after a stop, say) imports nothing twice.
    const again = await runCli(['import', '--dir', target], { input: exported.stdout });
    expect(lines(again.stdout)[0]).toBe('imported 0 sessions');
  });

  it('reports the lines it cannot import and imports the rest, from a file', async () => {
    const dir = await sessionDir();
    const file = join(dir, '..', 'sessions.ndjson');
    const soon = new Date(Date.now() + HOUR).toISOString();
    await writeFile(
      file,
      [
        JSON.stringify({ id: 'fine', expiresAt: soon, session: { n: 1 } }),
        'not json',
        JSON.stringify({
          id: 'old',
          expiresAt: new Date(Date.now() - HOUR).toISOString(),
          session: {},
        }),
        JSON.stringify({ id: 'no-expiry', session: {} }),
        JSON.stringify({ id: '', expiresAt: soon, session: {} }),
        '',
      ].join('\n'),
    );
    const run = await runCli(['import', file, '--dir', dir]);
    expect(run.code).toBe(0);
    expect(lines(run.stdout)).toEqual([
      'imported 1 sessions',
      'skipped 0 already in the store, 1 expired, 3 unreadable',
    ]);
    expect(lines(run.stderr)).toEqual([
      'sessionfs: unreadable: line 2: not JSON',
      'sessionfs: unreadable: line 4: "expiresAt" is not a time',
      'sessionfs: unreadable: session "": session id must be a non-empty string',
    ]);
    expect(await appStore(dir).get('fine')).toEqual({ n: 1 });
  });
});

describe('encrypted stores', () => {
  it('reads with keys from the command line or the environment, and says when keys are missing', async () => {
    const dir = await sessionDir();
    const key = randomBytes(32).toString('hex');
    await appStore(dir, { encryption: { keys: [key] } }).set(
      'sealed',
      { token: 'secret' },
      { expiresAt: Date.now() + HOUR },
    );
    const withKey = await runCli([
      'show',
      'sealed',
      '--dir',
      dir,
      '--json',
      '--encryption-key',
      key,
    ]);
    expect(JSON.parse(withKey.stdout)).toEqual({ token: 'secret' });
    const fromEnv = await runCli(['export', '--dir', dir, '-q'], {
      env: { SESSIONFS_ENCRYPTION_KEYS: `${randomBytes(32).toString('hex')},${key}` },
    });
    expect(JSON.parse(fromEnv.stdout).session).toEqual({ token: 'secret' });
    const withoutKey = await runCli(['show', 'sealed', '--dir', dir]);
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stdout).toMatch(
      /^state {4}unreadable \(sealed with a key the store was not given\)$/m,
    );
    expect(withoutKey.stderr).toMatch(/ERR_UNREADABLE: .*give the keys it was sealed with/);
  });
});

describe('the command line itself', () => {
  it('exits 2 with one line for a wrong command line, naming what to do', async () => {
    for (const args of [
      ['ls'],
      ['bogus'],
      ['ls', '--bogus'],
      ['ls', '--dir', 'a', '--redis', 'redis://x'],
    ]) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(lines(run.stderr), args.join(' ')).toHaveLength(1);
      expect(run.stderr).toMatch(/^sessionfs: ERR_USAGE: /);
    }
  });

  it('exits 1 with the error code and what to do when the store cannot be opened', async () => {
    const run = await runCli(['stats', '--dir', '/nonexistent/sessions']);
    expect(run.code).toBe(1);
    expect(lines(run.stderr)).toEqual([
      'sessionfs: ERR_NO_DIRECTORY: cannot open the directory /nonexistent/sessions (ENOENT). check the path given to --dir',
    ]);
  });

  it('has --help with examples for every command', async () => {
    for (const command of [
      'stats',
      'ls',
      'show',
      'rm',
      'prune',
      'clear',
      'export',
      'import',
      'rekey',
      'keygen',
      'layout',
    ]) {
      const help = await runCli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout, command).toMatch(new RegExp(`^Usage: sessionfs ${command} `));
      expect(help.stdout, command).toContain(`Examples:\n  $ sessionfs ${command}`);
    }
    const top = await runCli(['--help']);
    expect(top.stdout).toContain(
      'Exit codes: 0 done, 1 failed, 2 wrong command line, 130 stopped by Ctrl+C.',
    );
  });
});

describe('layout', () => {
  it('prints the layout and changes it with the app stopped; every session stays as it was', async () => {
    const { dir, store } = await appDirectory();
    await store.close();
    // Every session, in order of id: a sharded directory lists them shard by shard.
    const sessions = async () =>
      lines((await runCli(['ls', '--json', '--dir', dir])).stdout).sort();
    const before = await sessions();
    expect(before).toHaveLength(8);
    expect((await runCli(['layout', '--dir', dir])).stdout).toBe('flat\n');

    const sharded = await runCli(['layout', 'sharded', '--dir', dir]);
    expect(sharded.code).toBe(0);
    // Every file under a session name: seven live sessions, the expired one, the garbage.
    expect(sharded.stdout).toMatch(/^flat -> sharded: moved 9 session files in \d+\.\d s\n$/);
    expect((await runCli(['layout', '--dir', dir])).stdout).toBe('sharded\n');
    expect(await readdir(dir)).toContain('_0');
    expect(await sessions()).toEqual(before);
    // A store opened with default options follows the directory's layout.
    expect(await appStore(dir).get('user-1')).toMatchObject({ user: { id: 1 } });

    const flat = await runCli(['layout', 'flat', '--dir', dir]);
    expect(flat.stdout).toMatch(/^sharded -> flat: moved 9 session files/);
    expect(await sessions()).toEqual(before);
    expect((await readdir(dir)).filter((name) => name.startsWith('_'))).toEqual([]);

    const wrong = await runCli(['layout', 'spiral', '--dir', dir]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/unknown layout "spiral".*flat or sharded/s);
  });
});

describe('keys', () => {
  it('keygen prints a fresh 32-byte key; rekey seals every session with the first key given', async () => {
    const [first, second] = await Promise.all([runCli(['keygen']), runCli(['keygen'])]);
    const oldKey = first.stdout.trim();
    const newKey = second.stdout.trim();
    expect(Buffer.from(oldKey, 'base64')).toHaveLength(32);
    expect(newKey).not.toBe(oldKey);

    const dir = await sessionDir();
    const before = appStore(dir, { encryption: { keys: [oldKey] } });
    for (let i = 0; i < 5; i += 1) {
      await before.set(`k-${i}`, { n: i }, { expiresAt: Date.now() + HOUR });
    }
    const refused = await runCli(['rekey', '--dir', dir]);
    expect(refused.code).toBe(2);
    const run = await runCli(['rekey', '--dir', dir], {
      env: { SESSIONFS_ENCRYPTION_KEYS: `${newKey},${oldKey}` },
    });
    expect(run.code).toBe(0);
    expect(lines(run.stdout)[0]).toBe('re-sealed 5 sessions with the current key; 0 already were');
    // The old key can go: a store with the new key alone reads every session.
    const after = appStore(dir, { encryption: { keys: [newKey] } });
    for (let i = 0; i < 5; i += 1) expect(await after.get(`k-${i}`)).toEqual({ n: i });
  });
});

describe('a reader that goes away', () => {
  it('ends ls quietly, exit 0, when stdout closes early (sessionfs ls | head)', async () => {
    const dir = await sessionDir();
    const store = appStore(dir);
    await saveMany(2_000, (i) => store.set(`r-${i}`, { n: i }, { expiresAt: Date.now() + HOUR }));
    const child = spawnCli(['ls', '--dir', dir]);
    child.stdin?.end();
    const done = finished(child);
    await once(child.stdout as NodeJS.ReadableStream, 'data');
    child.stdout?.destroy();
    const run = await done;
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });
});

// `ls --owner` and `rm --owner` over a directory whose app sets the store's `owner` option:
// the binary reads only that owner's entries of the owner index, confirms each against its
// record, and never takes an entry out of the index while its session exists.
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ownerKey, sessionKey } from '@sessionfs/core';
import { describe, expect, it } from 'vitest';
import { appStore, cookieSession, HOUR, lines, runCli, sessionDir, snapshot } from './support.js';

/** The app's `owner` option, as the store's documentation writes it. */
const ownerOfSession = (session: { user?: { id?: string | number } }) => session.user?.id;

/** A directory the way an app with `owner` leaves it: three owners, and an anonymous visitor. */
async function ownedDirectory() {
  const dir = await sessionDir();
  const store = appStore(dir, { owner: ownerOfSession });
  await store.set('alice-laptop', cookieSession({ user: { id: 'alice' } }, 24 * HOUR));
  await store.set('alice-phone', cookieSession({ user: { id: 'alice' } }, 2 * HOUR));
  await store.set(
    'alice-tablet',
    cookieSession({ user: { id: 'alice' }, drafts: 'x'.repeat(2_000) }, 3 * HOUR),
  );
  await store.set('alice-old', { user: { id: 'alice' } }, { expiresAt: Date.now() - 60_000 });
  await store.set('bob-laptop', cookieSession({ user: { id: 'bob' } }));
  await store.set('user-42', cookieSession({ user: { id: 42 } }));
  await store.set('anonymous', cookieSession({ cart: ['tea'] }));
  return { dir, store };
}

/** The ids an `ls --json` printed, sorted. */
function listedIds(stdout: string): string[] {
  return lines(stdout)
    .map((line) => JSON.parse(line).id as string)
    .sort();
}

describe('ls --owner', () => {
  it("lists that owner's live sessions as ls does, filters combining, and changes nothing", async () => {
    const { dir } = await ownedDirectory();
    const before = await snapshot(dir);

    const human = await runCli(['ls', '--dir', dir, '--owner', 'alice']);
    expect(human).toMatchObject({ code: 0, stderr: '' });
    expect(
      lines(human.stdout)
        .map((line) => line.split(/\s+/).at(-1))
        .sort(),
    ).toEqual(['alice-laptop', 'alice-phone', 'alice-tablet']);
    expect(human.stdout).toMatch(/^\S+Z {2}in (1h 59m|2h 00m) +\d+ B {2}alice-phone$/m);

    const json = await runCli(['ls', '--dir', dir, '--owner', 'alice', '--json']);
    expect(lines(json.stdout).map((line) => JSON.parse(line))).toContainEqual({
      id: 'alice-phone',
      key: sessionKey('alice-phone'),
      expiresAt: expect.stringMatching(/Z$/),
      size: expect.any(Number),
      state: 'live',
    });
    expect(listedIds(json.stdout)).toHaveLength(3);

    const soon = await runCli([
      'ls',
      '--dir',
      dir,
      '--owner',
      'alice',
      '--expiring-within',
      '150m',
    ]);
    expect(lines(soon.stdout).map((line) => line.split(/\s+/).at(-1))).toEqual(['alice-phone']);
    const large = await runCli(['ls', '--dir', dir, '--owner', 'alice', '--larger-than', '1kB']);
    expect(lines(large.stdout).map((line) => line.split(/\s+/).at(-1))).toEqual(['alice-tablet']);
    const expired = await runCli(['ls', '--dir', dir, '--owner', 'alice', '--expired', '--json']);
    expect(listedIds(expired.stdout)).toEqual(['alice-old']);
    // A numeric owner is named by its decimal digits, as the store names it.
    const numeric = await runCli(['ls', '--dir', dir, '--owner', '42', '--json']);
    expect(listedIds(numeric.stdout)).toEqual(['user-42']);
    const nobody = await runCli(['ls', '--dir', dir, '--owner', 'carol']);
    expect(nobody).toMatchObject({ code: 0, stdout: '', stderr: '' });

    expect(await snapshot(dir)).toEqual(before);
  });

  it('leaves out a session that another process saved under a new owner, and lists it under that one', async () => {
    const { dir, store } = await ownedDirectory();
    // Another instance of the app, which never saw the session as alice's: her index entry
    // stays, and only the record says whose the session is now.
    await appStore(dir, { owner: ownerOfSession }).set(
      'alice-laptop',
      cookieSession({ user: { id: 'bob' } }),
    );
    expect(await readdir(join(dir, '.owners', ownerKey('alice')))).toContain(
      sessionKey('alice-laptop'),
    );

    const alice = await runCli(['ls', '--dir', dir, '--owner', 'alice', '--json']);
    expect(listedIds(alice.stdout)).toEqual(['alice-phone', 'alice-tablet']);
    const bob = await runCli(['ls', '--dir', dir, '--owner', 'bob', '--json']);
    expect(listedIds(bob.stdout)).toEqual(['alice-laptop', 'bob-laptop']);

    const removed = await runCli(['rm', '--dir', dir, '--owner', 'alice']);
    expect(removed).toMatchObject({ code: 0, stdout: 'removed 2 sessions of alice\n' });
    expect(await store.get('alice-laptop')).toMatchObject({ user: { id: 'bob' } });
  });
});

describe('rm --owner', () => {
  it("ends the owner's sessions but those kept with --except, and leaves everyone else's", async () => {
    const { dir, store } = await ownedDirectory();
    const kept = await runCli([
      'rm',
      '--dir',
      dir,
      '--owner',
      'alice',
      '--except',
      'alice-laptop',
      '--except',
      'alice-phone',
    ]);
    expect(kept).toMatchObject({ code: 0, stdout: 'removed 1 session of alice\n', stderr: '' });
    expect(await store.get('alice-tablet')).toBeNull();
    expect(await store.get('alice-laptop')).toMatchObject({ user: { id: 'alice' } });
    expect(await store.get('alice-phone')).toMatchObject({ user: { id: 'alice' } });

    const rest = await runCli(['rm', '--dir', dir, '--owner', 'alice']);
    expect(rest).toMatchObject({ code: 0, stdout: 'removed 2 sessions of alice\n', stderr: '' });
    for (const id of ['alice-laptop', 'alice-phone']) expect(await store.get(id)).toBeNull();
    expect(await store.get('bob-laptop')).toMatchObject({ user: { id: 'bob' } });
    expect(await store.get('user-42')).toMatchObject({ user: { id: 42 } });
    expect(await store.get('anonymous')).toMatchObject({ cart: ['tea'] });
    expect((await runCli(['ls', '--dir', dir, '--owner', 'alice'])).stdout).toBe('');

    const again = await runCli(['rm', '--dir', dir, '--owner', 'alice']);
    expect(again).toMatchObject({ code: 0, stdout: 'removed 0 sessions of alice\n' });
    const numeric = await runCli(['rm', '--dir', dir, '--owner', '42']);
    expect(numeric.stdout).toBe('removed 1 session of 42\n');
    expect(await store.get('user-42')).toBeNull();
  });
});

describe('where a session names its owner', () => {
  it('takes --owner-path or SESSIONFS_OWNER_PATH; a wrong path finds nothing, says so, and keeps the index', async () => {
    const dir = await sessionDir();
    const store = appStore(dir, {
      owner: (session: { passport?: { user?: string } }) => session.passport?.user,
    });
    await store.set('carol-1', cookieSession({ passport: { user: 'carol' } }));
    await store.set('carol-2', cookieSession({ passport: { user: 'carol' } }));
    const before = await snapshot(dir);

    // The default path, user.id, is not where this app keeps its owner.
    const listed = await runCli(['ls', '--dir', dir, '--owner', 'carol']);
    expect(listed).toMatchObject({ code: 0, stdout: '' });
    expect(lines(listed.stderr)).toEqual([
      'sessionfs: note: 2 sessions indexed under carol do not name carol at user.id; if the app names owners elsewhere, give --owner-path (or SESSIONFS_OWNER_PATH)',
    ]);
    const removed = await runCli(['rm', '--dir', dir, '--owner', 'carol']);
    expect(removed.stdout).toBe('removed 0 sessions of carol\n');
    expect(lines(removed.stderr)).toHaveLength(1);
    // Neither took carol's sessions out of the index the app logs her out everywhere with.
    expect(await snapshot(dir)).toEqual(before);

    const byPath = await runCli(
      ['ls', '--dir', dir, '--owner', 'carol', '--json'].concat(['--owner-path', 'passport.user']),
    );
    expect(listedIds(byPath.stdout)).toEqual(['carol-1', 'carol-2']);
    const byVariable = await runCli(['rm', '--dir', dir, '--owner', 'carol'], {
      env: { SESSIONFS_OWNER_PATH: 'passport.user' },
    });
    expect(byVariable).toMatchObject({ code: 0, stdout: 'removed 2 sessions of carol\n' });
    expect(await store.count()).toBe(0);
  });

  it('says when the owner index is empty: the app does not set `owner`', async () => {
    const dir = await sessionDir();
    await appStore(dir).set('dave-1', cookieSession({ user: { id: 'dave' } }));
    const run = await runCli(['ls', '--dir', dir, '--owner', 'dave']);
    expect(run).toMatchObject({ code: 0, stdout: '' });
    expect(lines(run.stderr)).toEqual([
      "sessionfs: note: the owner index is empty: it holds the sessions saved while the app sets the store's `owner` option",
    ]);
  });

  it('reads sealed sessions with the keys, and without them leaves them and their entries alone', async () => {
    const dir = await sessionDir();
    const key = randomBytes(32).toString('hex');
    const store = appStore(dir, { owner: ownerOfSession, encryption: { keys: [key] } });
    await store.set('erin-1', cookieSession({ user: { id: 'erin' } }));
    const before = await snapshot(dir);

    const unkeyed = await runCli(['rm', '--dir', dir, '--owner', 'erin']);
    expect(unkeyed.stdout).toBe('removed 0 sessions of erin\n');
    // The store's own warning comes first; the note names the owner.
    expect(lines(unkeyed.stderr)).toContain(
      'sessionfs: note: 1 session indexed under erin left out: sealed with a key not given (--encryption-key)',
    );
    expect(await snapshot(dir)).toEqual(before);

    const keyed = ['--dir', dir, '--owner', 'erin', '--encryption-key', key];
    expect(listedIds((await runCli(['ls', ...keyed, '--json'])).stdout)).toEqual(['erin-1']);
    expect((await runCli(['rm', ...keyed])).stdout).toBe('removed 1 session of erin\n');
    expect(await store.get('erin-1')).toBeNull();
  });
});

describe('the owner options on the command line', () => {
  it('refuses combinations that make no sense, exit 2, one line, nothing changed', async () => {
    const { dir } = await ownedDirectory();
    const before = await snapshot(dir);
    for (const [args, message] of [
      [['rm', 'alice-laptop', '--owner', 'alice'], 'give session ids or --owner, not both'],
      [['rm', '--except', 'alice-laptop'], '--except needs --owner'],
      [['rm'], 'rm needs session ids or --owner'],
      [['ls', '--owner-path', 'user.id'], '--owner-path needs --owner'],
      [['ls', '--owner', ''], '--owner is empty'],
      [['ls', '--owner', 'alice', '--owner-path', 'user..id'], '"user..id" is not a path'],
      [['ls', '--owner', 'alice', '--expired', '--expiring-within', '1h'], 'exclude each other'],
    ] as const) {
      const run = await runCli([...args, '--dir', dir]);
      expect(run.code, args.join(' ')).toBe(2);
      expect(lines(run.stderr), args.join(' ')).toHaveLength(1);
      expect(run.stderr, args.join(' ')).toMatch(/^sessionfs: ERR_USAGE: /);
      expect(run.stderr, args.join(' ')).toContain(message);
    }
    expect(await snapshot(dir)).toEqual(before);
  });

  it('shows the owner options, with examples, in ls --help and rm --help', async () => {
    const ls = await runCli(['ls', '--help']);
    expect(ls.stdout).toContain('--owner <id>');
    expect(ls.stdout).toContain('--owner-path <path>');
    expect(ls.stdout).toContain('$ sessionfs ls --dir ./sessions --owner alice');
    const rm = await runCli(['rm', '--help']);
    expect(rm.stdout).toMatch(/^Usage: sessionfs rm \[options\] \[id\.\.\.\]$/m);
    expect(rm.stdout).toContain('--except <id>');
    expect(rm.stdout).toContain('$ sessionfs rm --owner alice --dir ./sessions');
  });
});

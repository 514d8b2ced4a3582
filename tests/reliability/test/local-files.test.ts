// What other local users and programs can leave in or around a session directory, through
// the node adapter on real files: a directory others can write or list, special files (a
// FIFO, a socket, a link to /dev/zero, a directory) under a session's file name, a link to
// a valid record outside the directory, and files another program left under the session
// prefix. None of them may be served as a session, block the store, use unbounded memory,
// or be changed or removed by the store.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore, sessionKey } from '@sessionfs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fixture, spawnNode } from './support/children.js';
import { recordingLogger } from './support/logger.js';

const HOUR = 60 * 60 * 1_000;
/** A clock ten years ahead: every record on disk is expired by it. */
const farFuture = () => Date.now() + 10 * 365 * 86_400_000;
/** How long a child may take to answer before the test calls it stuck. */
const CHILD_BOUND_MS = 10_000;
const UNSAFE_DIRECTORY = 'ERR_UNSAFE_DIRECTORY';
const isRoot = process.getuid?.() === 0;
/** A user id that owns nothing on the machine: "another local user". */
const OTHER_UID = 48_213;

let root: string;
let dir: string;

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'sessionfs-local-'));
  dir = join(root, 'sessions');
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

/** A directory with exactly `mode` (mkdir alone is cut by the umask). */
async function makeDirectory(path: string, mode: number): Promise<void> {
  await fs.mkdir(path, { recursive: true });
  await fs.chmod(path, mode);
}

/** The permission bits of `path`, in octal as `chmod` takes them. */
async function modeOf(path: string): Promise<string> {
  return ((await fs.stat(path)).mode & 0o7777).toString(8);
}

const sessionFor = (data: Record<string, unknown>) => ({
  ...data,
  cookie: { originalMaxAge: HOUR, path: '/', httpOnly: true },
});

function openStore(options: { dir?: string; now?: () => number } = {}) {
  const log = recordingLogger();
  const store = createSessionStore({
    adapter: createNodeAdapter({ dir: options.dir ?? dir }),
    reapInterval: false,
    logger: log.logger,
    ...(options.now ? { now: options.now } : {}),
  });
  return { store, ...log };
}

/**
 * Beside what `snapshot` describes, a session is stored, counted, listed, reaped (with a
 * clock ten years on, when everything would be expired) and cleared: only the session
 * comes and goes, and what `snapshot` saw stays as it was.
 */
async function expectOnlySessionsTouched(snapshot: () => Promise<unknown>, before: unknown) {
  const { store } = openStore();
  await store.set('real', sessionFor({ user: 'ada' }));
  expect(await store.length()).toBe(1);
  expect(await collect(store.ids())).toEqual(['real']);
  const { store: later } = openStore({ now: farFuture });
  expect(await later.reap()).toMatchObject({ removed: 1 });
  expect(await snapshot()).toEqual(before);

  await store.set('real', sessionFor({ user: 'ada' }));
  expect(await store.clear()).toBe(1);
  expect(await snapshot()).toEqual(before);
}

/** Copies a session file with its times: the node adapter keeps the expiry in the mtime. */
async function copyRecord(from: string, to: string): Promise<void> {
  const { atime, mtime } = await fs.stat(from);
  await fs.copyFile(from, to);
  await fs.utimes(to, atime, mtime);
}

/** A perfectly valid record of `id` holding `data`, at `path`, stored by a store of its own. */
async function validRecordAt(path: string, id: string, data: Record<string, unknown>) {
  const source = await fs.mkdtemp(join(root, 'forge-'));
  const { store } = openStore({ dir: source });
  await store.set(id, sessionFor(data));
  await store.close();
  await copyRecord(join(source, sessionKey(id)), path);
}

/** What an entry is and holds, a link not followed, to check it was left alone. */
async function snapshot(path: string) {
  const stats = await fs.lstat(path).catch(() => undefined);
  const kind = !stats
    ? 'missing'
    : stats.isFile()
      ? 'file'
      : stats.isSymbolicLink()
        ? `link to ${await fs.readlink(path)}`
        : stats.isFIFO()
          ? 'fifo'
          : stats.isSocket()
            ? 'socket'
            : stats.isDirectory()
              ? 'directory'
              : 'other';
  return {
    kind,
    bytes: kind === 'file' ? (await fs.readFile(path)).toString('base64') : null,
    mtimeMs: kind === 'file' ? stats?.mtimeMs : null,
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function thrownBy(run: () => unknown): { code?: unknown; message?: string } | undefined {
  try {
    run();
  } catch (error) {
    return error as { code?: unknown; message?: string };
  }
  return undefined;
}

/** The resident memory of process `pid` in bytes (Linux), 0 once it is gone. */
async function rssOf(pid: number): Promise<number> {
  try {
    const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

interface ReaderResult {
  /** Undefined when the child never got there. */
  normal: { normal: unknown } | undefined;
  specials: { specials: unknown[]; warnings: string[] } | undefined;
  peakRssBytes: number;
  stderr: string;
}

/**
 * Runs `fixtures/special-file-reader.mjs` over `dir`: gets of `specialIds` with a set and
 * get of a normal id beside them. Whatever the child does, this returns within
 * `CHILD_BOUND_MS` (plus start-up), the child killed if it is stuck or its memory passes
 * `rssCapBytes`.
 */
async function readInChild(
  sync: 'auto' | 'none',
  specialIds: string[],
  rssCapBytes = 512 * 1024 * 1024,
): Promise<ReaderResult> {
  const child = spawnNode(
    fixture('special-file-reader.mjs'),
    [dir, sync, 'normal', ...specialIds],
    {
      ...process.env,
      // libuv's default, stated: four blocked reads are enough to stall it.
      UV_THREADPOOL_SIZE: '4',
    },
  );
  const lines: Record<string, unknown>[] = [];
  child.onLine((line) => lines.push(JSON.parse(line)));
  let peakRssBytes = 0;
  let exited = false;
  void child.exited.then(() => {
    exited = true;
  });
  try {
    const pid = child.process.pid ?? 0;
    const deadline = performance.now() + CHILD_BOUND_MS;
    while (lines.length < 2 && !exited && performance.now() < deadline) {
      peakRssBytes = Math.max(peakRssBytes, await rssOf(pid));
      if (peakRssBytes > rssCapBytes) break;
      await sleep(20);
    }
  } finally {
    child.process.kill('SIGKILL');
    await child.exited;
  }
  return {
    normal: lines.find((line) => 'normal' in line) as ReaderResult['normal'],
    specials: lines.find((line) => 'specials' in line) as ReaderResult['specials'],
    peakRssBytes,
    stderr: child.stderr(),
  };
}

describe('a session directory other local users can reach (item 2)', () => {
  const uid = process.getuid?.() ?? 0;

  it('refuses an existing directory every local user can write, where a forged session may wait', async () => {
    await makeDirectory(dir, 0o777);
    // Another local user replaced a session with a forged record.
    await validRecordAt(join(dir, sessionKey('victim')), 'victim', { admin: true });
    const error = thrownBy(() => createNodeAdapter({ dir }));
    expect(error).toMatchObject({ code: UNSAFE_DIRECTORY });
    // The message says which directory, why, and what to run.
    expect(error?.message).toContain(dir);
    expect(error?.message).toContain('mode 0777');
    expect(error?.message).toContain(`owner uid ${uid}`);
    expect(error?.message).toContain(`chmod 700 ${dir}`);
  });

  it('refuses a group-writable directory unless the group shares it on purpose', async () => {
    await makeDirectory(dir, 0o770);
    const error = thrownBy(() => createNodeAdapter({ dir }));
    expect(error).toMatchObject({ code: UNSAFE_DIRECTORY });
    expect(error?.message).toContain('mode 0770');
    expect(error?.message).toContain(`chmod 700 ${dir}`);
  });

  it.skipIf(!isRoot)(
    'refuses a directory owned by another user (needs root to chown)',
    async () => {
      await makeDirectory(dir, 0o700);
      await fs.chown(dir, OTHER_UID, OTHER_UID);
      const error = thrownBy(() => createNodeAdapter({ dir }));
      expect(error).toMatchObject({ code: UNSAFE_DIRECTORY });
      expect(error?.message).toContain(`owner uid ${OTHER_UID}`);
      expect(error?.message).toContain(`chown ${uid} ${dir}`);
    },
  );

  it.skipIf(!isRoot)(
    "with access 'group', accepts a directory another member owns and shares 2770, and creates files 0660 (needs root to chown)",
    async () => {
      const gid = process.getgid?.() ?? 0;
      await makeDirectory(dir, 0o2770);
      await fs.chown(dir, OTHER_UID, gid);
      const warnings: string[] = [];
      // The usual umask (022): the files must still be group-writable, as the option
      // promises. (Setting it needs vitest's default process pool, not threads.)
      const umask = process.umask(0o022);
      try {
        const store = createSessionStore({
          adapter: createNodeAdapter({
            dir,
            access: 'group',
            warn: (message) => warnings.push(message),
          }),
          reapInterval: false,
        });
        await store.set('shared', sessionFor({ user: 'ada' }));
        expect(await store.get('shared')).toMatchObject({ user: 'ada' });
        expect(await modeOf(join(dir, sessionKey('shared')))).toBe('660');
        expect(warnings).toEqual([]);
      } finally {
        process.umask(umask);
      }
    },
  );

  it.skipIf(!isRoot)(
    "with access 'group', a member's touch of a session another member wrote moves its expiry (needs root to run as two users)",
    async () => {
      // Linux lets only a file's owner set its times: the store writes the session again.
      const gid = process.getgid?.() ?? 0;
      await fs.chmod(root, 0o755);
      await makeDirectory(dir, 0o2770);
      await fs.chown(dir, OTHER_UID, gid);
      const member = (uid: number, ...args: string[]) =>
        JSON.parse(
          execFileSync(process.execPath, [fixture('group-member.mjs'), dir, ...args], {
            uid,
            gid,
            encoding: 'utf8',
            timeout: CHILD_BOUND_MS,
          }),
        ) as {
          done?: true;
          error?: string;
          session?: { member?: number; cookie: { expires: string } };
        };
      const later = Date.now() + 2 * HOUR;
      expect(member(OTHER_UID, 'set', 'shared', String(Date.now() + HOUR))).toEqual({ done: true });
      expect(member(OTHER_UID + 1, 'touch', 'shared', String(later))).toEqual({ done: true });
      const { session } = member(OTHER_UID + 1, 'get', 'shared', '0');
      expect(session?.member).toBe(OTHER_UID);
      expect(session?.cookie.expires).toBe(new Date(later).toISOString());
    },
  );

  it("refuses a directory every user can write even with access 'group'", async () => {
    await makeDirectory(dir, 0o2777);
    const error = thrownBy(() => createNodeAdapter({ dir, access: 'group' }));
    expect(error).toMatchObject({ code: UNSAFE_DIRECTORY });
    expect(error?.message).toContain('mode 2777');
  });

  it('warns once per directory that others can list, and never about the one it creates', async () => {
    const warnings: string[] = [];
    const warn = (message: string) => warnings.push(message);
    // Others can list the session ids in it, but not forge any: used, with one warning.
    await makeDirectory(dir, 0o755);
    const store = createSessionStore({
      adapter: createNodeAdapter({ dir, warn }),
      reapInterval: false,
    });
    createNodeAdapter({ dir, warn });
    await store.set('listed', sessionFor({ user: 'ada' }));
    expect(await store.get('listed')).toMatchObject({ user: 'ada' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(dir);
    expect(warnings[0]).toContain(`chmod 700 ${dir}`);

    // A missing directory is created 0700 at the first write: nothing to warn about.
    const created = join(root, 'created');
    const fresh = createSessionStore({
      adapter: createNodeAdapter({ dir: created, warn }),
      reapInterval: false,
    });
    await fresh.set('fresh', sessionFor({ user: 'bob' }));
    expect(await modeOf(created)).toBe('700');
    expect(warnings).toHaveLength(1);
  });

  it('refuses at the first write a directory someone else created unsafe after the adapter', async () => {
    const store = createSessionStore({ adapter: createNodeAdapter({ dir }), reapInterval: false });
    // Missing when the adapter was made; another user creates it world-writable first.
    await makeDirectory(dir, 0o777);
    await expect(store.set('late', sessionFor({ user: 'ada' }))).rejects.toMatchObject({
      code: UNSAFE_DIRECTORY,
    });
  });
});

describe('special files under a session file name (item 3)', () => {
  beforeEach(() => makeDirectory(dir, 0o700));

  // The reads run in a child (see readInChild): a read that blocks the event loop or the
  // thread pool, or fills memory, must fail the test, not hang it or the machine.
  it('a FIFO reads as no session at once, with a warning, and stays (sync auto)', async () => {
    const fifo = join(dir, sessionKey('fifo'));
    execFileSync('mkfifo', [fifo]);
    const result = await readInChild('auto', ['fifo']);
    expect(result.normal, `the child stalled: ${result.stderr}`).toEqual({
      normal: expect.objectContaining({ user: 'normal' }),
    });
    expect(result.specials?.specials).toEqual([null]);
    expect(result.specials?.warnings.some((reason) => reason.includes('FIFO'))).toBe(true);
    expect((await snapshot(fifo)).kind).toBe('fifo');
  });

  it('four FIFOs do not stall the thread pool for other sessions (sync none)', async () => {
    const ids = ['fifo-1', 'fifo-2', 'fifo-3', 'fifo-4'];
    for (const id of ids) execFileSync('mkfifo', [join(dir, sessionKey(id))]);
    const result = await readInChild('none', ids);
    // The set and get of a normal id beside the four reads completed.
    expect(result.normal, `the child stalled: ${result.stderr}`).toEqual({
      normal: expect.objectContaining({ user: 'normal' }),
    });
    expect(result.specials?.specials).toEqual([null, null, null, null]);
    for (const id of ids) expect((await snapshot(join(dir, sessionKey(id)))).kind).toBe('fifo');
  });

  it('a link to /dev/zero reads as no session, in bounded memory (sync none)', async () => {
    const link = join(dir, sessionKey('zero'));
    await fs.symlink('/dev/zero', link);
    const capBytes = 256 * 1024 * 1024;
    const result = await readInChild('none', ['zero'], capBytes);
    // Well under the cap: a Node process with the store takes some 60 MB.
    expect(result.peakRssBytes).toBeLessThan(capBytes);
    expect(result.specials, `no answer: ${result.stderr}`).toBeDefined();
    expect(result.specials?.specials).toEqual([null]);
    expect(result.specials?.warnings.some((reason) => reason.includes('symbolic link'))).toBe(true);
    expect((await snapshot(link)).kind).toBe('link to /dev/zero');
  });

  it('FIFOs, links, sockets and directories are never listed, counted, reaped or cleared, and stay', async () => {
    const entries = {
      fifo: join(dir, sessionKey('fifo')),
      zero: join(dir, sessionKey('zero')),
      socket: join(dir, sessionKey('socket')),
      directory: join(dir, sessionKey('directory')),
    };
    execFileSync('mkfifo', [entries.fifo]);
    await fs.symlink('/dev/zero', entries.zero);
    const socket = createServer();
    socket.listen(entries.socket);
    await once(socket, 'listening');
    try {
      await fs.mkdir(entries.directory);
      const before = await Promise.all(Object.values(entries).map(snapshot));

      await expectOnlySessionsTouched(
        () => Promise.all(Object.values(entries).map(snapshot)),
        before,
      );
    } finally {
      await new Promise((resolve) => socket.close(resolve));
    }
  });
});

describe('a link under a session file name to a valid record outside the directory (item 4)', () => {
  let outside: string;
  let link: string;

  beforeEach(async () => {
    await makeDirectory(dir, 0o700);
    // Someone who can create links (not files) in the directory points a session at a
    // record of their own elsewhere: a perfectly valid one.
    outside = join(root, 'elsewhere', 'record');
    await makeDirectory(join(root, 'elsewhere'), 0o700);
    await validRecordAt(outside, 'linked', { admin: true });
    link = join(dir, sessionKey('linked'));
    await fs.symlink(outside, link);
  });

  it('is not served, and a warning is logged', async () => {
    // The record itself is valid: as a plain file it would be served.
    const control = join(root, 'control');
    await makeDirectory(control, 0o700);
    await copyRecord(outside, join(control, sessionKey('linked')));
    expect(await openStore({ dir: control }).store.get('linked')).toMatchObject({ admin: true });

    const { store, warnings } = openStore();
    expect(await store.get('linked')).toBeNull();
    expect(warnings.map(({ fields }) => fields.reason)).toContainEqual(
      expect.stringContaining('symbolic link'),
    );
    expect((await snapshot(link)).kind).toBe(`link to ${outside}`);
  });

  it('touch does not move the expiry of the file outside', async () => {
    const before = await snapshot(outside);
    const { store } = openStore();
    await store.touch('linked', {
      admin: true,
      cookie: { originalMaxAge: 2 * HOUR, path: '/', httpOnly: true },
    });
    expect(await snapshot(outside)).toEqual(before);
    expect((await snapshot(link)).kind).toBe(`link to ${outside}`);
  });

  it('reap and clear leave the link and the file outside alone', async () => {
    const before = await snapshot(outside);
    const { store: later } = openStore({ now: farFuture });
    await later.reap();
    expect(await snapshot(outside)).toEqual(before);
    expect((await snapshot(link)).kind).toBe(`link to ${outside}`);

    const { store } = openStore();
    expect(await store.clear()).toBe(0);
    expect(await snapshot(outside)).toEqual(before);
    expect((await snapshot(link)).kind).toBe(`link to ${outside}`);
  });
});

describe('files another program left under the session prefix (item 6)', () => {
  const foreignNames = ['s.json', 's.backup.tar', 's.1'];

  beforeEach(async () => {
    await makeDirectory(dir, 0o700);
    await fs.writeFile(join(dir, 's.json'), '{"user":"not a session"}\n');
    await fs.writeFile(join(dir, 's.backup.tar'), Buffer.alloc(2048, 7));
    await fs.writeFile(join(dir, 's.1'), 'one');
    await fs.mkdir(join(dir, 's.dir'));
    await fs.writeFile(join(dir, 's.dir', 'inside'), 'kept');
  });

  const contents = () =>
    Promise.all([
      ...foreignNames.map((name) => snapshot(join(dir, name))),
      snapshot(join(dir, 's.dir')),
      snapshot(join(dir, 's.dir', 'inside')),
    ]);

  it('are never counted, listed, reaped or cleared, and stay byte-identical', async () => {
    await expectOnlySessionsTouched(contents, await contents());
  });
});

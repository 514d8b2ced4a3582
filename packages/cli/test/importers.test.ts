import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { FileStore as ItrocksFileStore } from '@itrocks/fastify-file-session-store';
import { SessionStoreError } from '@sessionfs/core';
import expressSession from 'express-session';
import Fastify, { type FastifyInstance } from 'fastify';
import sessionFileStore from 'session-file-store';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type ForeignEntry,
  type ForeignFormat,
  type ForeignReadOptions,
  type ForeignSession,
  readForeignSessions,
  type UnreadableFile,
} from '../src/importers/index.js';

declare module 'express-session' {
  interface SessionData {
    user?: { name: string };
  }
}
declare module 'fastify' {
  interface Session {
    user?: { name: string };
  }
}

/**
 * The importers' view of the filesystem, observed: every path they open, and a switch to
 * list entries without their type, as filesystems that do not report it (some NFS, XFS
 * without ftype) do.
 */
const fsSpy = vi.hoisted(() => ({ opened: [] as string[], listWithoutTypes: false }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const no = () => false;
  async function* withoutTypes(entries: AsyncIterable<{ name: string }>) {
    for await (const { name } of entries) {
      yield {
        name,
        isFile: no,
        isDirectory: no,
        isSymbolicLink: no,
        isFIFO: no,
        isSocket: no,
        isBlockDevice: no,
        isCharacterDevice: no,
      };
    }
  }
  return {
    ...actual,
    open: (...args: Parameters<typeof actual.open>) => {
      fsSpy.opened.push(String(args[0]));
      return actual.open(...args);
    },
    opendir: async (...args: Parameters<typeof actual.opendir>) => {
      const listing = await actual.opendir(...args);
      return fsSpy.listWithoutTypes ? withoutTypes(listing) : listing;
    },
  };
});

const DAY_MS = 24 * 60 * 60 * 1000;

let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-import-'));
  dir = join(root, 'sessions');
  await mkdir(dir);
  fsSpy.opened.length = 0;
  fsSpy.listWithoutTypes = false;
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** An id as express-session (uid-safe) and @fastify/session make them: base64url of 24 bytes. */
function newSessionId(): string {
  return randomBytes(24).toString('base64url');
}

interface EntrySnapshot {
  readonly path: string;
  readonly mode: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
  readonly content?: string;
  readonly linkTarget?: string;
}

/**
 * Everything under `from` as `lstat` sees it, with the bytes of regular files and the
 * targets of links: a write, a rename, a removal or a chmod changes it (ctime included).
 */
async function snapshot(from: string): Promise<EntrySnapshot[]> {
  const entries: EntrySnapshot[] = [];
  for (const name of (await readdir(from)).sort()) {
    const path = join(from, name);
    const stats = await lstat(path);
    const common = {
      path,
      mode: stats.mode,
      size: stats.size,
      mtimeMs: stats.mtimeMs,
      ctimeMs: stats.ctimeMs,
    };
    if (stats.isFile())
      entries.push({ ...common, content: (await readFile(path)).toString('base64') });
    else if (stats.isSymbolicLink()) entries.push({ ...common, linkTarget: await readlink(path) });
    else entries.push(common);
    if (stats.isDirectory()) entries.push(...(await snapshot(path)));
  }
  return entries;
}

/** Every entry `readForeignSessions` yields, checking that `root` is left exactly as it was. */
async function readAll(
  format: ForeignFormat,
  options?: ForeignReadOptions,
): Promise<ForeignEntry[]> {
  const before = await snapshot(root);
  const entries: ForeignEntry[] = [];
  fsSpy.opened.length = 0;
  for await (const entry of readForeignSessions(format, dir, options)) entries.push(entry);
  expect(await snapshot(root)).toEqual(before);
  // Only regular files were ever opened: no link, FIFO, device or directory.
  const regularFiles = before.filter((entry) => entry.content !== undefined);
  for (const path of fsSpy.opened) {
    expect(regularFiles.map((entry) => entry.path)).toContain(path);
  }
  return entries;
}

function sessionsOf(entries: readonly ForeignEntry[]): Map<string, ForeignSession> {
  return new Map(
    entries.filter((entry) => entry.kind === 'session').map((entry) => [entry.id, entry]),
  );
}

function unreadableOf(entries: readonly ForeignEntry[]): Map<string, string> {
  return new Map(
    entries
      .filter((entry): entry is UnreadableFile => entry.kind === 'unreadable')
      .map((entry) => [entry.file, entry.reason]),
  );
}

async function rawJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(dir, file), 'utf8'));
}

function mkfifo(path: string): void {
  execFileSync('mkfifo', [path]);
}

describe('session-file-store', () => {
  const FileStore = sessionFileStore(expressSession);
  type Store = InstanceType<typeof FileStore> & {
    expired(id: string, callback: (error: unknown, expired?: boolean) => void): void;
  };
  // The types leave out the options express-session's middleware builds its cookie with.
  const Cookie = expressSession.Cookie as unknown as new (options?: {
    maxAge?: number;
  }) => expressSession.Cookie;

  function newStore(options: sessionFileStore.Options = {}): Store {
    return new FileStore({ path: dir, reapInterval: -1, logFn: () => {}, ...options }) as Store;
  }

  /**
   * `store.set` as express-session calls it, bracketed by the clock. The cookie's
   * `originalMaxAge` is set to the maxAge: express-session's Cookie reads it back from the
   * clock (`expires` minus now), so a millisecond passing makes a maxAge of 1 into 0, which
   * the package takes as "no maxAge" (its ttl), and 60,000 into 59,999.
   */
  async function save(store: Store, id: string, name: string, maxAge?: number) {
    const cookie = new Cookie(maxAge === undefined ? {} : { maxAge });
    if (maxAge !== undefined) cookie.originalMaxAge = maxAge;
    const session = {
      cookie,
      user: { name },
    };
    const before = Date.now();
    await new Promise<void>((resolve, reject) =>
      store.set(id, session, (error) => (error ? reject(error) : resolve())),
    );
    return { before, after: Date.now(), cookie: JSON.parse(JSON.stringify(session.cookie)) };
  }

  function expiredByThePackage(store: Store, id: string): Promise<boolean | undefined> {
    return new Promise((resolve, reject) =>
      store.expired(id, (error, expired) => (error ? reject(error) : resolve(expired))),
    );
  }

  it('reads ids, sessions and expiries: cookie maxAge, no maxAge (ttl), expired', async () => {
    const store = newStore();
    const withMaxAge = newSessionId();
    const withoutMaxAge = newSessionId();
    const expired = newSessionId();
    const savedWithMaxAge = await save(store, withMaxAge, 'ada', 60_000);
    const savedWithoutMaxAge = await save(store, withoutMaxAge, 'bob');
    const savedExpired = await save(store, expired, 'cy', 1);
    await sleep(5);

    const sessions = sessionsOf(await readAll('session-file-store'));
    expect([...sessions.keys()].sort()).toEqual([withMaxAge, withoutMaxAge, expired].sort());

    // Lifetimes from the package's isExpired: originalMaxAge when set, else ttl (3600 s),
    // from __lastAccess. The store stamps __lastAccess between the two clock readings, so
    // the bracket is exact; the file's own __lastAccess gives the exact value.
    const cases = [
      [withMaxAge, savedWithMaxAge, 60_000, 'ada'],
      [withoutMaxAge, savedWithoutMaxAge, 3_600_000, 'bob'],
      [expired, savedExpired, 1, 'cy'],
    ] as const;
    for (const [id, saved, lifetime, name] of cases) {
      const session = sessions.get(id);
      const raw = await rawJson(`${id}.json`);
      expect(session?.expiresAt).toBe(Number(raw.__lastAccess) + lifetime);
      expect(session?.expiresAt).toBeGreaterThanOrEqual(saved.before + lifetime);
      expect(session?.expiresAt).toBeLessThanOrEqual(saved.after + lifetime);
      expect(session?.session).toEqual({ cookie: saved.cookie, user: { name } });
      expect(session?.session).not.toHaveProperty('__lastAccess');
    }
    expect(savedWithoutMaxAge.cookie).toMatchObject({ expires: null, originalMaxAge: null });

    // Expired here exactly when the package says so.
    for (const [id] of cases) {
      const session = sessions.get(id);
      expect((session?.expiresAt ?? 0) < Date.now()).toBe(await expiredByThePackage(store, id));
    }
    expect(await expiredByThePackage(store, expired)).toBe(true);
  });

  it('follows the ttl and fileExtension options', async () => {
    const store = newStore({ ttl: 120, fileExtension: '.sess' });
    const id = newSessionId();
    await save(store, id, 'ada');
    await writeFile(join(dir, `${newSessionId()}.json`), '{"cookie":{},"__lastAccess":1}');
    // An originalMaxAge of 0, as express-session's Cookie makes of a maxAge of 1 when a
    // millisecond passes inside it: no maxAge to the package, so the ttl.
    const zeroMaxAge = newSessionId();
    const lastAccess = Date.now();
    await writeFile(
      join(dir, `${zeroMaxAge}.sess`),
      JSON.stringify({ cookie: { originalMaxAge: 0 }, __lastAccess: lastAccess }),
    );

    const entries = await readAll('session-file-store', {
      ttlSeconds: 120,
      fileExtension: '.sess',
    });
    const raw = await rawJson(`${id}.sess`);
    expect(entries).toHaveLength(2);
    const sessions = sessionsOf(entries);
    expect(sessions.get(id)?.expiresAt).toBe(Number(raw.__lastAccess) + 120_000);
    expect(sessions.get(zeroMaxAge)?.expiresAt).toBe(lastAccess + 120_000);
    expect(await expiredByThePackage(store, zeroMaxAge)).toBe(false);
  });

  it('reports files encrypted with the secret as unreadable', async () => {
    const store = newStore({ secret: 'keyboard cat' });
    const id = newSessionId();
    await save(store, id, 'ada', 60_000);
    // kruptein's envelope, with no session field in the clear.
    expect(Object.keys(await rawJson(`${id}.json`))).toEqual(
      expect.arrayContaining(['hmac', 'ct', 'iv', 'salt']),
    );

    expect(await readAll('session-file-store')).toEqual([
      {
        kind: 'unreadable',
        file: `${id}.json`,
        reason: "encrypted with session-file-store's secret: not imported",
      },
    ]);
  });

  it('reports bad content as unreadable, with a reason that quotes none of it', async () => {
    const store = newStore();
    const good = newSessionId();
    await save(store, good, 'ada', 60_000);
    const bad: Record<string, string | Uint8Array> = {
      'truncated.json': '{"cookie":{},"user":{"password":"hunter2',
      'array.json': '["hunter2"]',
      'no-last-access.json': '{"cookie":{},"user":"hunter2"}',
      'bad-max-age.json': '{"cookie":{"originalMaxAge":"hunter2"},"__lastAccess":1}',
      'latin1.json': Buffer.from('{"user":"hunter2 \xe9"}', 'latin1'),
      'huge.json': `{"pad":"${' '.repeat(4 * 1024 * 1024)}"}`,
    };
    for (const [name, content] of Object.entries(bad)) await writeFile(join(dir, name), content);

    const entries = await readAll('session-file-store');
    expect([...sessionsOf(entries).keys()]).toEqual([good]);
    expect(Object.fromEntries(unreadableOf(entries))).toEqual({
      'truncated.json': 'not a JSON object',
      'array.json': 'not a JSON object',
      'no-last-access.json': 'no __lastAccess time, so no expiry',
      'bad-max-age.json': 'cookie.originalMaxAge is not a number of milliseconds',
      'latin1.json': 'not UTF-8 text',
      'huge.json': 'larger than 4 MiB',
    });
  });

  it('skips names that are not the store’s, without opening or descending into them', async () => {
    const store = newStore();
    const id = newSessionId();
    await save(store, id, 'ada', 60_000);
    await writeFile(join(dir, 'README'), 'not a session');
    await writeFile(join(dir, '.gitkeep'), '');
    await writeFile(join(dir, '.json'), '{}');
    // write-file-atomic's temp name for a session file.
    await writeFile(join(dir, `${newSessionId()}.json.3485112051`), '{');
    await mkdir(join(dir, 'nested'));
    await writeFile(join(dir, 'nested', `${newSessionId()}.json`), '{"__lastAccess":1}');
    mkfifo(join(dir, 'pipe'));
    await symlink(join(dir, `${id}.json`), join(dir, 'link'));

    expect(await readAll('session-file-store')).toEqual([
      expect.objectContaining({ kind: 'session', id }),
    ]);
  });

  it('never follows a symbolic link, to a session, a directory or nowhere', async () => {
    const outside = join(root, 'outside');
    await mkdir(outside);
    const outsideId = newSessionId();
    await writeFile(join(outside, `${outsideId}.json`), '{"cookie":{},"__lastAccess":1}');
    await symlink(join(outside, `${outsideId}.json`), join(dir, `${outsideId}.json`));
    await symlink(outside, join(dir, 'directory.json'));
    await symlink(join(root, 'missing'), join(dir, 'dangling.json'));

    const entries = await readAll('session-file-store');
    expect(sessionsOf(entries).size).toBe(0);
    expect(Object.fromEntries(unreadableOf(entries))).toEqual({
      [`${outsideId}.json`]: 'a symbolic link, not followed',
      'directory.json': 'a symbolic link, not followed',
      'dangling.json': 'a symbolic link, not followed',
    });
  });

  it('never opens a FIFO or a directory named like a session', { timeout: 2000 }, async () => {
    mkfifo(join(dir, 'fifo.json'));
    await mkdir(join(dir, 'folder.json'));

    expect(Object.fromEntries(unreadableOf(await readAll('session-file-store')))).toEqual({
      'fifo.json': 'a FIFO, not a regular file: not opened',
      'folder.json': 'a directory, not a regular file: not opened',
    });
  });
});

describe('@itrocks/fastify-file-session-store', () => {
  const apps: FastifyInstance[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  /** A Fastify app whose @fastify/session keeps its sessions in an itrocks store on `dir`. */
  async function newApp(cookie: { maxAge?: number } = {}): Promise<FastifyInstance> {
    const app = Fastify();
    apps.push(app);
    await app.register(fastifyCookie);
    await app.register(fastifySession, {
      secret: 'a secret of at least thirty-two characters',
      cookie: { secure: false, ...cookie },
      saveUninitialized: false,
      store: new ItrocksFileStore(dir),
    });
    app.post<{ Body: { name: string } }>('/login', async (request) => {
      request.session.set('user', { name: request.body.name });
      return { id: request.session.sessionId };
    });
    app.get('/me', async (request) => ({ user: request.session.get('user') ?? null }));
    return app;
  }

  /** Logs `name` in, bracketed by the clock; the session id and cookie to send back. */
  async function logIn(app: FastifyInstance, name: string) {
    const before = Date.now();
    const response = await app.inject({ method: 'POST', url: '/login', payload: { name } });
    const after = Date.now();
    const { id } = response.json<{ id: string }>();
    const cookie = response.cookies.find((set) => set.name === 'sessionId');
    return { id, before, after, cookie: { sessionId: cookie?.value ?? '' } };
  }

  it('reads ids, sessions and expiries: cookie maxAge, no expiry, expired', async () => {
    const withMaxAge = await logIn(await newApp({ maxAge: 60_000 }), 'ada');
    const expiredApp = await newApp({ maxAge: 1 });
    const expired = await logIn(expiredApp, 'cy');
    const withoutExpiryApp = await newApp();
    const withoutExpiry = await logIn(withoutExpiryApp, 'bob');
    await sleep(5);

    const sessions = sessionsOf(await readAll('itrocks'));
    expect([...sessions.keys()].sort()).toEqual(
      [withMaxAge.id, withoutExpiry.id, expired.id].sort(),
    );

    // @fastify/session sets cookie.expires to its clock + maxAge while handling the
    // request, so the clock readings around the request bracket it exactly.
    for (const [saved, maxAge, name] of [
      [withMaxAge, 60_000, 'ada'],
      [expired, 1, 'cy'],
    ] as const) {
      const session = sessions.get(saved.id);
      const raw = await rawJson(saved.id);
      expect(session?.session).toEqual(raw);
      expect(session?.session.user).toEqual({ name });
      expect(session?.expiresAt).toBe(
        Date.parse(String((raw.cookie as { expires: string }).expires)),
      );
      expect(session?.expiresAt).toBeGreaterThanOrEqual(saved.before + maxAge);
      expect(session?.expiresAt).toBeLessThanOrEqual(saved.after + maxAge);
    }

    // No expiry in the cookie: a day (sessionfs's default ttl) after the file's last write.
    const raw = await rawJson(withoutExpiry.id);
    expect((raw.cookie as { expires: unknown }).expires).toBeNull();
    const session = sessions.get(withoutExpiry.id);
    expect(session?.session).toEqual(raw);
    const { mtimeMs } = await lstat(join(dir, withoutExpiry.id));
    expect(session?.expiresAt).toBe(Math.trunc(mtimeMs) + DAY_MS);

    // Expired here exactly when @fastify/session stops serving the session (after reading:
    // serving an expired session regenerates it, which removes its file).
    expect(sessions.get(expired.id)?.expiresAt).toBeLessThan(Date.now());
    const me = async (app: FastifyInstance, cookies: Record<string, string>) =>
      (await app.inject({ method: 'GET', url: '/me', cookies })).json<{ user: unknown }>().user;
    expect(await me(withoutExpiryApp, withoutExpiry.cookie)).toEqual({ name: 'bob' });
    expect(await me(expiredApp, expired.cookie)).toBeNull();
  });

  it('counts a session without cookie expiry from its last write, with lifetimeWithoutExpiryMs', async () => {
    const { id } = await logIn(await newApp(), 'bob');
    const { mtimeMs } = await lstat(join(dir, id));

    expect(await readAll('itrocks', { lifetimeWithoutExpiryMs: 1000 })).toEqual([
      expect.objectContaining({ kind: 'session', id, expiresAt: Math.trunc(mtimeMs) + 1000 }),
    ]);
  });

  it('reports bad files, links, FIFOs and directories; skips dot files', {
    timeout: 2000,
  }, async () => {
    const { id } = await logIn(await newApp({ maxAge: 60_000 }), 'ada');
    await writeFile(
      join(dir, 'truncated'),
      '{"cookie":{"expires":"2099-01-01T00:00:00.000Z"},"user":',
    );
    await writeFile(join(dir, 'empty'), '');
    await writeFile(join(dir, 'bad-date'), '{"cookie":{"expires":"hunter2"}}');
    await writeFile(join(dir, 'small'), '[]');
    await writeFile(join(dir, '.gitkeep'), '');
    await writeFile(join(dir, '.DS_Store'), 'binary');
    await symlink(join(dir, id), join(dir, 'link'));
    mkfifo(join(dir, 'fifo'));
    await mkdir(join(dir, 'folder'));

    const entries = await readAll('itrocks', { maxFileBytes: 2 });
    expect([...sessionsOf(entries).keys()]).toEqual([]);
    expect(Object.fromEntries(unreadableOf(entries))).toEqual({
      [id]: 'larger than 2 bytes',
      truncated: 'larger than 2 bytes',
      empty: 'empty file',
      'bad-date': 'larger than 2 bytes',
      small: 'not a JSON object',
      link: 'a symbolic link, not followed',
      fifo: 'a FIFO, not a regular file: not opened',
      folder: 'a directory, not a regular file: not opened',
    });

    const withDefaultCap = unreadableOf(await readAll('itrocks'));
    expect(withDefaultCap.get('truncated')).toBe('not a JSON object');
    expect(withDefaultCap.get('bad-date')).toBe('cookie.expires is not a date');
    expect(withDefaultCap.has(id)).toBe(false);
    expect(withDefaultCap.get('small')).toBe('not a JSON object');
  });
});

describe('readForeignSessions', () => {
  it('refuses at once an unknown format and options that are bad or of the other format', () => {
    const calls = [
      () => readForeignSessions('connect-redis' as ForeignFormat, dir),
      () => readForeignSessions('itrocks', dir, { ttlSeconds: 60 }),
      () => readForeignSessions('itrocks', dir, { fileExtension: '.json' }),
      () => readForeignSessions('session-file-store', dir, { lifetimeWithoutExpiryMs: 1 }),
      () => readForeignSessions('session-file-store', dir, { ttlSeconds: 0 }),
      () => readForeignSessions('session-file-store', dir, { fileExtension: '/x' }),
      () => readForeignSessions('itrocks', dir, { maxFileBytes: Number.NaN }),
    ];
    for (const call of calls) {
      expect(call).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
      try {
        call();
      } catch (error) {
        expect(SessionStoreError.isInstance(error)).toBe(true);
      }
    }
  });

  it('rejects with the fs error when the directory cannot be listed', async () => {
    const entries = readForeignSessions('itrocks', join(root, 'missing'));
    await expect(entries[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('examines entries with lstat when the listing does not give their type', async () => {
    fsSpy.listWithoutTypes = true;
    mkfifo(join(dir, 'fifo'));
    await symlink(join(root, 'missing'), join(dir, 'link'));
    await mkdir(join(dir, 'folder'));
    await writeFile(join(dir, 'session'), '{"cookie":{"expires":"2099-01-01T00:00:00.000Z"}}');

    const entries = await readAll('itrocks');
    expect(entries.filter((entry) => entry.kind === 'session').map((entry) => entry.id)).toEqual([
      'session',
    ]);
    expect(Object.fromEntries(unreadableOf(entries))).toEqual({
      fifo: 'a FIFO, not a regular file: not opened',
      link: 'a symbolic link, not followed',
      folder: 'a directory, not a regular file: not opened',
    });
    expect(fsSpy.opened).toEqual([join(dir, 'session')]);
  });

  it('lets the caller stop early', async () => {
    for (let i = 0; i < 5; i++) await writeFile(join(dir, `s${i}`), '{"cookie":{}}');
    let seen = 0;
    for await (const entry of readForeignSessions('itrocks', dir)) {
      expect(entry.kind).toBe('session');
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
  });
});

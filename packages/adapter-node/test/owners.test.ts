import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSessionStore,
  ErrorCodes,
  hasErrorCode,
  ownerKey,
  sessionKey,
} from '@sessionfs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeAdapter, OWNERS_DIR, relayout } from '../src/index.js';

let root: string;
let dir: string;

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'sessionfs-owners-'));
  dir = join(root, 'sessions');
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

const silent = { warn() {}, error() {} };
const session = (user: string) => ({
  cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000).toISOString() },
  user,
});

function openStore(layout: 'flat' | 'sharded' = 'flat') {
  return createSessionStore<{ user?: string }>({
    adapter: createNodeAdapter({ dir, layout }),
    owner: (s) => s.user,
    reapInterval: false,
    logger: silent,
  });
}

describe('the owner index on files', () => {
  it('keeps one symbolic link per session under .owners/<owner digest>/, never a file to read', async () => {
    const store = openStore();
    await store.set('a', session('ada'));
    const ownerDir = join(dir, OWNERS_DIR, ownerKey('ada'));
    const [entry] = await fs.readdir(ownerDir);
    expect(entry).toBe(sessionKey('a'));
    expect((await fs.lstat(join(ownerDir, entry as string))).isSymbolicLink()).toBe(true);
    // Session files are listed as before: the index is no session.
    expect(await collect(store.ids())).toEqual(['a']);
    // An owner's directory left empty goes when the owners are next listed (the reaper's sweep).
    await store.destroy('a');
    expect(await fs.readdir(join(dir, OWNERS_DIR))).toEqual([ownerKey('ada')]);
    await store.reap();
    expect(await fs.readdir(join(dir, OWNERS_DIR))).toEqual([]);
    await store.close();
  });

  for (const layout of ['flat', 'sharded'] as const) {
    it(`serves an owner's sessions in a ${layout} directory, and across a relayout`, async () => {
      let store = openStore(layout);
      for (let i = 0; i < 20; i += 1) await store.set(`ada-${i}`, session('ada'));
      await store.set('bob', session('bob'));
      expect((await collect(store.sessionsOf('ada'))).length).toBe(20);
      await store.close();
      await relayout({ dir, layout: layout === 'flat' ? 'sharded' : 'flat' });
      store = openStore(layout === 'flat' ? 'sharded' : 'flat');
      expect((await collect(store.sessionsOf('ada'))).length).toBe(20);
      expect(await store.destroyOwner('ada')).toBe(20);
      expect(await collect(store.ids())).toEqual(['bob']);
      await store.close();
    });
  }

  it('ignores what is not an entry in an owner directory, and never follows an entry', async () => {
    const store = openStore();
    await store.set('a', session('ada'));
    const ownerDir = join(dir, OWNERS_DIR, ownerKey('ada'));
    // Foreign names: a file, a dot-name, a directory, and a link named like a key that
    // points at a file outside the directory.
    const outside = join(root, 'outside.txt');
    await fs.writeFile(outside, 'not a session');
    await fs.writeFile(join(ownerDir, 'README'), 'x');
    await fs.writeFile(join(ownerDir, '.hidden'), 'x');
    await fs.mkdir(join(ownerDir, sessionKey('dir')));
    await fs.symlink(outside, join(ownerDir, sessionKey('b')));
    expect((await collect(store.sessionsOf('ada'))).map(([id]) => id)).toEqual(['a']);
    expect(await store.destroyOwner('ada')).toBe(1);
    expect(await fs.readFile(outside, 'utf8')).toBe('not a session');
    await store.close();
  });

  it('refuses an index that is a link, and makes nothing where it points', async () => {
    const elsewhere = join(root, 'elsewhere');
    await fs.mkdir(elsewhere);
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.symlink(elsewhere, join(dir, OWNERS_DIR));
    const store = openStore();
    const error = await store.set('a', session('ada')).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)).toBe(true);
    expect(await fs.readdir(elsewhere)).toEqual([]);
    // Nothing was written under an owner it could not index.
    expect(await store.get('a')).toBeNull();
    await store.close();
  });

  it('shares the index between two adapters over one directory, as two processes do', async () => {
    const first = openStore();
    const second = openStore();
    await first.set('laptop', session('ada'));
    await second.set('phone', session('ada'));
    expect((await collect(first.sessionsOf('ada'))).map(([id]) => id).sort()).toEqual([
      'laptop',
      'phone',
    ]);
    expect(await second.destroyOwner('ada', { except: 'phone' })).toBe(1);
    expect(await first.get('laptop')).toBeNull();
    expect(await first.get('phone')).not.toBeNull();
    await first.close();
    await second.close();
  });
});

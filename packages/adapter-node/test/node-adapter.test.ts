import { spawn } from 'node:child_process';
import * as nodeFs from 'node:fs';
import { writeFileSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, hasErrorCode } from '@sessionfs/core';
import { MAX_KEY_LENGTH } from '@sessionfs/core/adapter';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createNodeAdapter,
  LAYOUT_FILE,
  NEVER_EXPIRES_MTIME_MS,
  type NodeFs,
  type NodeFsPromises,
} from '../src/index.js';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (value: { data: Uint8Array } | null) =>
  value ? new TextDecoder().decode(value.data) : null;
const fsError = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

/**
 * A synchronous `open` that fails with what `fail` makes, except for the directory's
 * layout file, which an adapter reads once, before its first call.
 */
function failingOpenSync(fail: (path: string) => Error): NodeFs['openSync'] {
  return ((path: nodeFs.PathLike, flags: nodeFs.OpenMode, mode?: nodeFs.Mode) => {
    if (String(path).endsWith(LAYOUT_FILE)) return nodeFs.openSync(path, flags, mode);
    throw fail(String(path));
  }) as NodeFs['openSync'];
}

/** node:fs with some promise calls (and some synchronous ones) replaced, to inject failures. */
function faultyFs(overrides: Partial<NodeFsPromises>, syncOverrides: Partial<NodeFs> = {}): NodeFs {
  return { ...nodeFs, ...syncOverrides, promises: { ...fs, ...overrides } } as NodeFs;
}

let root: string;
let dir: string;

/** The file of `key` where the adapter keeps it: in a shard of a directory it created. */
const fileOf = (key: string) => createNodeAdapter({ dir }).fileOf(key);
/** The directory that holds the file of `key`: a shard, or `dir` when it is flat. */
const dirOf = (key: string) => dirname(fileOf(key));
/** The entries of `top`, but for the layout file the adapter made it with. */
const entriesOf = async (top: string) =>
  (await fs.readdir(top)).filter((name) => name !== LAYOUT_FILE);
/** Where a take holds the file of `key` while it checks it. */
const heldOf = (key: string) => join(dirOf(key), `.${key}.held`);
/** The names of the files under `dir`, in it or in its shards. */
const namesUnder = async (top: string) =>
  (await fs.readdir(top, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => entry.name)
    .sort();

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'sessionfs-node-'));
  dir = join(root, 'sessions');
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('files and permissions', () => {
  it('creates a missing directory 0700 and files 0600, with the value as the file', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('abc', encode('value'));
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(fileOf('abc'))).mode & 0o777).toBe(0o600);
    expect(await fs.readFile(fileOf('abc'), 'utf8')).toBe('value');
  });

  it('leaves the mode of an existing directory alone', async () => {
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.chmod(dir, 0o755);
    await createNodeAdapter({ dir }).write('abc', encode('value'));
    expect((await fs.stat(dir)).mode & 0o777).toBe(0o755);
  });

  it('resolves a relative directory once, at creation', async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const adapter = createNodeAdapter({ dir: 'relative' });
      expect(adapter.dir).toBe(join(root, 'relative'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('rejects an unknown sync option with ERR_INVALID_OPTION', () => {
    expect(() => createNodeAdapter({ dir, sync: 'sometimes' as 'auto' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }),
    );
  });

  it('rejects a missing dir option with ERR_INVALID_OPTION', () => {
    expect(() => createNodeAdapter({ dir: '' })).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_OPTION }),
    );
  });

  it('writes a key of the longest length: its temp name stays within 255 bytes', async () => {
    const adapter = createNodeAdapter({ dir });
    const key = 'k'.repeat(MAX_KEY_LENGTH);
    await adapter.write(key, encode('value'));
    expect(decode(await adapter.read(key))).toBe('value');
    expect(await entriesOf(dirOf(key))).toEqual([key]);
  });

  it('keeps the expiry in the file mtime, and "never" as the 2038 sentinel', async () => {
    const adapter = createNodeAdapter({ dir });
    const expiresAt = Date.UTC(2030, 0, 1, 12, 0, 0, 250);
    await adapter.write('timed', encode('v'), { expiresAt });
    await adapter.write('forever', encode('v'));
    expect(Math.round((await fs.stat(fileOf('timed'))).mtimeMs)).toBe(expiresAt);
    expect(Math.round((await fs.stat(fileOf('forever'))).mtimeMs)).toBe(NEVER_EXPIRES_MTIME_MS);
  });
});

describe('listing', () => {
  it('hides temp files, foreign files and subdirectories', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('real', encode('v'));
    writeFileSync(join(dirOf('real'), '.real.0123456789abcdef01234567.tmp'), 'partial');
    writeFileSync(join(dirOf('real'), 'README.md'), 'not a key');
    await fs.mkdir(join(dirOf('real'), 'subdir'));
    expect(await collect(adapter.list(''))).toEqual(['real']);
  });

  it('lists nothing, without error, before the directory exists', async () => {
    expect(await collect(createNodeAdapter({ dir }).list(''))).toEqual([]);
  });

  it('streams 100,000 files with one directory handle', async () => {
    await fs.mkdir(dir);
    const count = 100_000;
    for (let i = 0; i < count; i += 1) writeFileSync(join(dir, `s${i}`), '');
    const adapter = createNodeAdapter({ dir });
    let listed = 0;
    for await (const key of adapter.list('s')) {
      if (key.startsWith('s')) listed += 1;
    }
    expect(listed).toBe(count);
  }, 120_000);
});

describe('cleanup', () => {
  it('removes temp files older than the given age, and nothing else', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('real', encode('v'));
    const stale = join(dirOf('real'), '.real.0123456789abcdef01234567.tmp');
    writeFileSync(stale, 'half a record');
    writeFileSync(join(dirOf('real'), '.not-ours'), 'x');
    writeFileSync(join(dirOf('real'), 'README.md'), 'x');
    expect(await adapter.cleanup(60_000)).toBe(0);
    // A dry run counts it and leaves it.
    expect(await adapter.cleanup(0, { dryRun: true })).toBe(1);
    expect(await adapter.cleanup(0, { dryRun: true })).toBe(1);
    expect(await adapter.cleanup(0)).toBe(1);
    expect((await entriesOf(dirOf('real'))).sort()).toEqual(['.not-ours', 'README.md', 'real']);
    expect(decode(await adapter.read('real'))).toBe('v');
  });

  it('has nothing to do before the directory exists', async () => {
    expect(await createNodeAdapter({ dir }).cleanup(0)).toBe(0);
  });
});

describe('takes: removing exactly the file checked', () => {
  const HOUR = 3_600_000;
  const lockPath = () => join(dir, '.sessionfs-take.lock');
  /** A lock file as a process writes it: `pid host token`. */
  const writeLock = (pid: number) =>
    writeFileSync(lockPath(), `${pid} ${hostname()} 0123456789abcdef\n`, { mode: 0o600 });
  /** What a take leaves while it checks the file of `key`: the file under its held name. */
  const hold = (key: string) => fs.rename(fileOf(key), heldOf(key));

  it('a read, a stat and a touch find a session held by a take while the lock exists', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('k', encode('v'), { expiresAt: Date.now() + HOUR });
    writeLock(process.pid);
    await hold('k');
    expect(decode(await adapter.read('k'))).toBe('v');
    expect(await adapter.stat('k')).not.toBeNull();
    // The touch waits for the take to put the file back, as the take does here.
    setTimeout(() => void fs.rename(heldOf('k'), fileOf('k')), 10);
    expect(await adapter.touch('k', Date.now() + 2 * HOUR)).toBe(true);
    // Without the lock, no take is under way: a file under a held name is no session.
    await hold('k');
    await fs.unlink(lockPath());
    expect(await adapter.read('k')).toBeNull();
  });

  it('a touch waits out a take slowed down by a loaded machine, and moves the expiry', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('k', encode('v'), { expiresAt: Date.now() + HOUR });
    writeLock(process.pid);
    await hold('k');
    // A taker whose calls queue behind others' puts the file back a quarter second later.
    setTimeout(() => void fs.rename(heldOf('k'), fileOf('k')), 250);
    const expiresAt = Date.now() + 2 * HOUR;
    expect(await adapter.touch('k', expiresAt, { ifLiveAt: Date.now() })).toBe(true);
    expect((await adapter.stat('k'))?.expiresAt).toBe(expiresAt);
  });

  it('a touch finds a session a take put back between its look at the key and at the held name', async () => {
    const adapter = createNodeAdapter({ dir, sync: 'none' });
    await adapter.write('k', encode('v'), { expiresAt: Date.now() + HOUR });
    writeLock(process.pid);
    const path = fileOf('k');
    const held = heldOf('k');
    let step = 0;
    const taking = createNodeAdapter({
      dir,
      sync: 'none',
      fs: faultyFs({
        lstat: (async (target: string) => {
          // The take moves the file away just before the touch looks at the key...
          if (target === path && step === 0) {
            step = 1;
            await hold('k');
          } else if (target === held && step === 1) {
            // ...and puts it back just before the touch looks under the held name.
            step = 2;
            await fs.link(held, path);
            await fs.unlink(held);
          }
          return fs.lstat(target);
        }) as NodeFsPromises['lstat'],
      }),
    });
    const expiresAt = Date.now() + 2 * HOUR;
    expect(await taking.touch('k', expiresAt, { ifLiveAt: Date.now() })).toBe(true);
    expect(step).toBe(2);
    expect((await adapter.stat('k'))?.expiresAt).toBe(expiresAt);
  });

  it('a touch does not wait for a held file that no take holds (the lock is gone)', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('k', encode('v'), { expiresAt: Date.now() + HOUR });
    await hold('k');
    const started = Date.now();
    expect(await adapter.touch('k', Date.now() + 2 * HOUR)).toBe(false);
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('a delete removes a held file too, so that a take cannot put it back', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('k', encode('v'));
    await hold('k');
    expect(await adapter.delete('k')).toBe(false);
    expect(await entriesOf(dirOf('k'))).toEqual([]);
  });

  it('cleanup settles what a taker that died left: live back to its key, expired gone, superseded gone', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('live', encode('live'), { expiresAt: Date.now() + HOUR });
    await adapter.write('expired', encode('expired'), { expiresAt: Date.now() - HOUR });
    await adapter.write('newer', encode('old'), { expiresAt: Date.now() + HOUR });
    for (const key of ['live', 'expired', 'newer']) await hold(key);
    await adapter.write('newer', encode('new'), { expiresAt: Date.now() + HOUR });
    writeFileSync(join(dir, '.sessionfs-take.lock.0123456789abcdef.stale'), '1 host token');
    // Young leftovers may belong to a take under way in another process.
    expect(await adapter.cleanup(60_000)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await adapter.cleanup(0)).toBe(4);
    expect((await namesUnder(dir)).filter((name) => !name.startsWith('.'))).toEqual([
      'live',
      'newer',
    ]);
    expect(decode(await adapter.read('live'))).toBe('live');
    expect(decode(await adapter.read('newer'))).toBe('new');
    expect((await namesUnder(dir)).filter((name) => name.includes('held'))).toEqual([]);
  });

  it('breaks a lock whose process died, waits for a live one, then answers ERR_BUSY', async () => {
    const adapter = createNodeAdapter({ dir });
    const expired = { expiresAt: Date.now() - HOUR };
    await adapter.write('a', encode('v'), expired);
    await adapter.write('b', encode('v'), expired);
    // A pid that no process has: the lock of a taker that died.
    writeLock(2 ** 22 + 1);
    expect(await adapter.delete('a', { ifExpiredAt: Date.now() })).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A live holder (this very process, through another adapter): this one waits, then gives up.
    writeLock(process.pid);
    const started = Date.now();
    const error = await adapter.delete('b', { ifExpiredAt: Date.now() }).catch((e: unknown) => e);
    expect(hasErrorCode(error, ErrorCodes.BUSY)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    expect(decode(await adapter.read('b'))).toBe('v');
    // Untouched for longer than a live holder ever leaves it: stale, whoever holds it.
    const longAgo = (Date.now() - 60_000) / 1000;
    await fs.utimes(lockPath(), longAgo, longAgo);
    expect(await adapter.delete('b', { ifExpiredAt: Date.now() })).toBe(true);
  });
});

describe('failures', () => {
  it('removes the temp file and keeps the previous value when the rename fails', async () => {
    const good = createNodeAdapter({ dir });
    await good.write('k', encode('previous'));
    const failing = createNodeAdapter({
      dir,
      fs: faultyFs({ rename: async () => Promise.reject(fsError('EIO')) }),
    });
    const error = await failing.write('k', encode('next')).catch((e: unknown) => e);
    expect(hasErrorCode(error, ErrorCodes.IO)).toBe(true);
    expect((error as Error).cause).toMatchObject({ code: 'EIO' });
    expect(await entriesOf(dirOf('k'))).toEqual(['k']);
    expect(decode(await good.read('k'))).toBe('previous');
  });

  it('maps a full disk to ERR_NO_SPACE and leaves no partial file', async () => {
    const good = createNodeAdapter({ dir });
    await good.write('k', encode('previous'));
    const full = createNodeAdapter({
      dir,
      fs: faultyFs({
        open: (async (path: string, flags: string, mode?: number) => {
          const handle = await fs.open(path, flags, mode);
          if (flags !== 'wx') return handle;
          return Object.assign(Object.create(handle), {
            writeFile: async (data: Uint8Array) => {
              await handle.writeFile(data.subarray(0, 2));
              throw fsError('ENOSPC');
            },
            close: () => handle.close(),
          });
        }) as NodeFsPromises['open'],
      }),
    });
    const error = await full.write('k', encode('next value')).catch((e: unknown) => e);
    expect(hasErrorCode(error, ErrorCodes.NO_SPACE)).toBe(true);
    expect(await entriesOf(dirOf('k'))).toEqual(['k']);
    expect(decode(await good.read('k'))).toBe('previous');
  });

  it.each(['auto', 'none'] as const)(
    'maps a refused access to ERR_PERMISSION (sync %s)',
    async (sync) => {
      // A file that is there, as far as lstat goes, and that open refuses.
      await createNodeAdapter({ dir }).write('k', encode('value'));
      const refused = createNodeAdapter({
        dir,
        sync,
        fs: faultyFs(
          { open: async () => Promise.reject(fsError('EACCES')) },
          { openSync: failingOpenSync(() => fsError('EACCES')) },
        ),
      });
      const error = await refused.read('k').catch((e: unknown) => e);
      expect(hasErrorCode(error, ErrorCodes.PERMISSION)).toBe(true);
      expect((error as Error).message).toMatch(/^@sessionfs\/adapter-node: /);
    },
  );

  it.each(['auto', 'none'] as const)(
    'waits out file-descriptor exhaustion instead of failing a read (sync %s)',
    async (sync) => {
      await createNodeAdapter({ dir }).write('k', encode('value'));
      let refusals = 3;
      let listRefusals = 3;
      const pressured = createNodeAdapter({
        dir,
        sync,
        fs: faultyFs(
          {
            open: ((...args: Parameters<typeof fs.open>) =>
              refusals-- > 0
                ? Promise.reject(fsError('EMFILE'))
                : fs.open(...args)) as NodeFsPromises['open'],
            opendir: ((...args: Parameters<typeof fs.opendir>) =>
              listRefusals-- > 0
                ? Promise.reject(fsError('EMFILE'))
                : fs.opendir(...args)) as NodeFsPromises['opendir'],
          },
          { openSync: failingOpenSync(() => fsError('EMFILE')) },
        ),
      });
      expect(decode(await pressured.read('k'))).toBe('value');
      expect(refusals).toBeLessThan(0);
      expect(await collect(pressured.list(''))).toEqual(['k']);
    },
  );

  it('writes synchronously when asked, atomically, and cleans up after a failed rename', async () => {
    const adapter = createNodeAdapter({ dir, sync: 'all' });
    await adapter.write('k', encode('first'), { expiresAt: Date.UTC(2031, 0, 1) });
    expect(decode(await adapter.read('k'))).toBe('first');
    expect((await adapter.stat('k'))?.expiresAt).toBe(Date.UTC(2031, 0, 1));
    expect((await fs.stat(fileOf('k'))).mode & 0o777).toBe(0o600);
    const failing = createNodeAdapter({
      dir,
      sync: 'all',
      fs: faultyFs(
        {},
        {
          renameSync: () => {
            throw fsError('ENOSPC');
          },
        },
      ),
    });
    const error = await failing.write('k', encode('second')).catch((e: unknown) => e);
    expect(hasErrorCode(error, ErrorCodes.NO_SPACE)).toBe(true);
    expect(await entriesOf(dirOf('k'))).toEqual(['k']);
    expect(decode(await adapter.read('k'))).toBe('first');
  });

  it('flushes the file and the directory when fsync is on', async () => {
    let syncs = 0;
    const counting = faultyFs({
      open: (async (...args: Parameters<typeof fs.open>) => {
        const handle = await fs.open(...args);
        const sync = handle.sync.bind(handle);
        handle.sync = async () => {
          syncs += 1;
          await sync();
        };
        return handle;
      }) as NodeFsPromises['open'],
    });
    await createNodeAdapter({ dir, fs: counting, fsync: true }).write('k', encode('v'));
    expect(syncs).toBe(2);
    await createNodeAdapter({ dir, fs: counting }).write('k', encode('v'));
    expect(syncs).toBe(2);
    let syncCalls = 0;
    const countingSync = faultyFs(
      {},
      {
        fsyncSync: (fd: number) => {
          syncCalls += 1;
          nodeFs.fsyncSync(fd);
        },
      },
    );
    await createNodeAdapter({ dir, fs: countingSync, fsync: true, sync: 'all' }).write(
      'k',
      encode('v'),
    );
    expect(syncCalls).toBe(2);
  });
});

describe('several processes over one directory', () => {
  it('two writer processes and a reader never produce a torn value or a stray temp file', async () => {
    const writer = fileURLToPath(new URL('./fixtures/writer.mjs', import.meta.url));
    const adapter = createNodeAdapter({ dir });
    const size = 128 * 1024;
    const whole = (value: Uint8Array | null) =>
      value !== null &&
      value.byteLength === size &&
      value.every((byte) => byte === value[0]) &&
      (value[0] === 1 || value[0] === 2);
    await adapter.write('shared', new Uint8Array(size).fill(1));
    const children = [1, 2].map(
      (fill) =>
        new Promise<number | null>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [writer, dir, 'shared', String(fill), String(size), '150'],
            {
              stdio: 'inherit',
            },
          );
          child.on('error', reject);
          child.on('exit', resolve);
        }),
    );
    let done = false;
    const finished = Promise.all(children).finally(() => {
      done = true;
    });
    let torn = 0;
    let reads = 0;
    while (!done) {
      if (!whole((await adapter.read('shared'))?.data ?? null)) torn += 1;
      reads += 1;
    }
    expect(await finished).toEqual([0, 0]);
    expect(reads).toBeGreaterThan(0);
    expect(torn).toBe(0);
    expect(await entriesOf(dirOf('shared'))).toEqual(['shared']);
  }, 60_000);
});

describe('the owner index across processes', () => {
  it('records every entry while other processes add and remove entries of the same owner', async () => {
    const churn = fileURLToPath(new URL('./fixtures/owner-churn.mjs', import.meta.url));
    const failures = await Promise.all(
      ['s.p', 's.q', 's.r'].map(
        (prefix) =>
          new Promise<number | null>((resolve, reject) => {
            const child = spawn(process.execPath, [churn, dir, 'o.alice', prefix, '1500'], {
              stdio: 'inherit',
            });
            child.on('error', reject);
            child.on('exit', resolve);
          }),
      ),
    );
    expect(failures).toEqual([0, 0, 0]);
  }, 60_000);

  it('keeps the directory of an owner whose last entry goes until owners() finds it empty', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.owners.add('o.alice', 's.one');
    await adapter.owners.add('o.bob', 's.two');
    await adapter.owners.remove('o.alice', 's.one');
    expect(await collect(adapter.owners.keys('o.alice'))).toEqual([]);
    expect((await fs.readdir(join(dir, '.owners'))).sort()).toEqual(['o.alice', 'o.bob']);
    expect(await collect(adapter.owners.owners())).toEqual(['o.bob']);
    expect(await fs.readdir(join(dir, '.owners'))).toEqual(['o.bob']);
    await adapter.owners.add('o.alice', 's.one');
    expect(await collect(adapter.owners.keys('o.alice'))).toEqual(['s.one']);
  });
});

describe('session ids stay out of errors', () => {
  it('shortens the key in the message and scrubs it from the cause', async () => {
    const key = 's.mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpjqwe';
    await createNodeAdapter({ dir }).write(key, encode('value'));
    const refused = createNodeAdapter({
      dir,
      fs: faultyFs(
        {},
        {
          openSync: failingOpenSync((path) =>
            Object.assign(new Error(`EACCES: permission denied, open '${path}'`), {
              code: 'EACCES',
              path,
            }),
          ),
        },
      ),
    });
    const error = (await refused.read(key).catch((e: unknown) => e)) as Error;
    expect(hasErrorCode(error, ErrorCodes.PERMISSION)).toBe(true);
    const logged = JSON.stringify({
      message: error.message,
      cause: {
        ...(error.cause as object),
        message: (error.cause as Error).message,
        stack: (error.cause as Error).stack,
      },
    });
    expect(logged).not.toContain(key);
    expect(logged).toContain(key.slice(0, 8));
  });
});

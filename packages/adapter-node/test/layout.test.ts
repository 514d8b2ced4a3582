import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCodes, hasErrorCode } from '@sessionfs/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createNodeAdapter, LAYOUT_FILE, readLayoutOf, relayout } from '../src/index.js';

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (value: { data: Uint8Array } | null) =>
  value ? new TextDecoder().decode(value.data) : null;
const SHARDS = Array.from({ length: 16 }, (_, index) => `_${index.toString(16)}`);
const KEYS = Array.from({ length: 200 }, (_, index) => `s.key${index}`);

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterable) out.push(key);
  return out.sort();
}

/** Every regular file under `dir`, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();
}

let root: string;
let dir: string;

beforeEach(async () => {
  root = await fs.mkdtemp(join(tmpdir(), 'sessionfs-layout-'));
  dir = join(root, 'sessions');
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

describe('a directory the adapter creates', () => {
  it("with `layout: 'sharded'`: 16 subdirectories 0700, the layout file, every file in its shard", async () => {
    const adapter = createNodeAdapter({ dir, layout: 'sharded' });
    for (const key of KEYS) await adapter.write(key, encode(key));

    expect((await fs.readdir(dir)).sort()).toEqual([LAYOUT_FILE, ...SHARDS].sort());
    for (const shard of SHARDS) expect((await fs.stat(join(dir, shard))).mode & 0o777).toBe(0o700);
    expect(await fs.readFile(join(dir, LAYOUT_FILE), 'utf8')).toBe('sharded 16\n');
    expect(readLayoutOf(dir)).toBe('sharded');
    // Every key in the shard fileOf names, and the keys spread over every shard.
    for (const key of KEYS) {
      expect(dirname(adapter.fileOf(key))).toMatch(/\/_[0-9a-f]$/);
      expect(await fs.readFile(adapter.fileOf(key), 'utf8')).toBe(key);
    }
    const used = new Set(KEYS.map((key) => dirname(adapter.fileOf(key))));
    expect(used.size).toBe(16);
    expect(await collect(adapter.list(''))).toEqual([...KEYS].sort());
    expect(await collect(adapter.list('s.key1'))).toEqual(
      KEYS.filter((key) => key.startsWith('s.key1')).sort(),
    );
    for (const key of KEYS.slice(0, 20)) expect(await adapter.delete(key)).toBe(true);
    expect(await collect(adapter.list(''))).toEqual(KEYS.slice(20).sort());
  });

  it('is flat by default: every file in the directory itself, beside the layout file', async () => {
    const adapter = createNodeAdapter({ dir });
    await adapter.write('abc', encode('value'));
    expect((await fs.readdir(dir)).sort()).toEqual([LAYOUT_FILE, 'abc']);
    expect(await fs.readFile(join(dir, LAYOUT_FILE), 'utf8')).toBe('flat\n');
    expect(adapter.fileOf('abc')).toBe(join(dir, 'abc'));
    expect(readLayoutOf(dir)).toBe('flat');
  });

  it('refuses an unknown layout with ERR_INVALID_OPTION', () => {
    expect(() => createNodeAdapter({ dir, layout: 'spiral' as 'flat' })).toThrow(
      expect.objectContaining({
        code: ErrorCodes.INVALID_OPTION,
        message: expect.stringContaining("option `layout` must be 'flat' or 'sharded'"),
      }),
    );
  });

  it('keeps the layout of whoever made it first, whatever the option of the others', async () => {
    const sharded = createNodeAdapter({ dir, layout: 'sharded' });
    const flat = createNodeAdapter({ dir, layout: 'flat' });
    // Both started before the directory existed; the flat one writes first.
    await flat.write('one', encode('1'));
    await sharded.write('two', encode('2'));
    expect((await fs.readdir(dir)).sort()).toEqual([LAYOUT_FILE, 'one', 'two']);
    expect(decode(await sharded.read('one'))).toBe('1');
    expect(decode(await flat.read('two'))).toBe('2');
  });

  it('appears whole to processes racing to create it: all agree on one layout', async () => {
    // Eight processes, half of them asking for each layout, write at once into a directory
    // none of them has seen; each then reads every key. None may miss another's.
    const racer = new URL('./fixtures/create-race.mjs', import.meta.url).pathname;
    const children = Array.from({ length: 8 }, (_, index) =>
      spawn(process.execPath, [racer, dir, index % 2 ? 'flat' : 'sharded', `k${index}`, '8'], {
        stdio: ['pipe', 'pipe', 'inherit'],
      }),
    );
    const outputs = children.map((child) => {
      let out = '';
      child.stdout.on('data', (chunk) => {
        out += chunk;
      });
      return () => out;
    });
    // Each reads once every one of them has written.
    const deadline = Date.now() + 20_000;
    while (!outputs.every((out) => out().includes('written')) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    for (const child of children) child.stdin.end('go\n');
    const seen = await Promise.all(
      children.map(async (child, index) => {
        const [code] = await once(child, 'exit');
        expect(code).toBe(0);
        return (outputs[index] as () => string)().replace('written', '').trim();
      }),
    );
    expect(seen).toEqual(Array(8).fill('8'));
    const files = await filesUnder(dir);
    expect(files.filter((file) => !file.startsWith('.')).length).toBe(8);
    // No directory was left half made beside it.
    expect(await fs.readdir(root)).toEqual(['sessions']);
  }, 30_000);

  it('makes a shard removed under it again on the next write', async () => {
    const adapter = createNodeAdapter({ dir, layout: 'sharded' });
    await adapter.write('abc', encode('1'));
    await fs.rm(dirname(adapter.fileOf('abc')), { recursive: true });
    await adapter.write('abc', encode('2'));
    expect(decode(await adapter.read('abc'))).toBe('2');
    await fs.rm(dir, { recursive: true });
    await adapter.write('abc', encode('3'));
    expect(decode(await adapter.read('abc'))).toBe('3');
    expect(readLayoutOf(dir)).toBe('sharded');
  });

  it('removes leftovers of interrupted writes in the shards', async () => {
    const adapter = createNodeAdapter({ dir, layout: 'sharded' });
    await adapter.write('abc', encode('1'));
    const shard = dirname(adapter.fileOf('abc'));
    const leftover = join(shard, `.abc.${'0'.repeat(24)}.tmp`);
    await fs.writeFile(leftover, 'half');
    // A cutoff in the future: the leftover was made this very millisecond.
    expect(await adapter.cleanup(-60_000, { dryRun: true })).toBe(1);
    expect(await adapter.cleanup(-60_000)).toBe(1);
    expect(await fs.readdir(shard)).toEqual(['abc']);
  });
});

describe('an existing directory', () => {
  it('without a layout file is flat: its sessions are found, new ones go beside them', async () => {
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.writeFile(join(dir, 'old'), 'kept', { mode: 0o600 });
    const adapter = createNodeAdapter({ dir });
    expect(decode(await adapter.read('old'))).toBe('kept');
    await adapter.write('new', encode('1'));
    expect((await fs.readdir(dir)).sort()).toEqual(['new', 'old']);
  });

  it('with a layout file that is not ours is refused with ERR_FOREIGN_ENTRY, never guessed', async () => {
    await fs.mkdir(dir, { mode: 0o700 });
    const cases: [string, () => Promise<void>][] = [
      ['another format', () => fs.writeFile(join(dir, LAYOUT_FILE), 'sharded 4096 v9\n')],
      ['a link', () => fs.symlink('/etc/hostname', join(dir, LAYOUT_FILE))],
      ['a FIFO', async () => void execFileSync('mkfifo', [join(dir, LAYOUT_FILE)])],
      ['a directory', () => fs.mkdir(join(dir, LAYOUT_FILE))],
    ];
    for (const [what, make] of cases) {
      await fs.rm(join(dir, LAYOUT_FILE), { recursive: true, force: true });
      await make();
      const adapter = createNodeAdapter({ dir });
      const failure = await adapter.read('abc').catch((error: unknown) => error);
      expect(hasErrorCode(failure, ErrorCodes.FOREIGN_ENTRY), what).toBe(true);
      await expect(adapter.write('abc', encode('1')), what).rejects.toMatchObject({
        code: ErrorCodes.FOREIGN_ENTRY,
      });
    }
  });
});

describe('relayout', () => {
  it('moves every session to the new layout and back, keeping bytes and expiry', async () => {
    const flat = createNodeAdapter({ dir, layout: 'flat' });
    const expiresAt = Date.now() + 3_600_000;
    for (const key of KEYS) await flat.write(key, encode(key), { expiresAt });
    // Not a key (upper case): not a session, left where it is.
    await fs.writeFile(join(dir, 'README'), 'about these sessions');

    expect(await relayout({ dir, layout: 'sharded' })).toEqual({
      from: 'flat',
      moved: KEYS.length,
      stopped: false,
    });
    const sharded = createNodeAdapter({ dir });
    for (const key of KEYS) {
      const value = await sharded.read(key);
      expect(decode(value)).toBe(key);
      expect(Math.abs((value?.expiresAt ?? 0) - expiresAt)).toBeLessThan(1_000);
    }
    expect(await collect(sharded.list('s.'))).toEqual([...KEYS].sort());

    expect(await relayout({ dir, layout: 'flat' })).toMatchObject({ from: 'sharded' });
    expect((await fs.readdir(dir)).filter((name) => name.startsWith('_'))).toEqual([]);
    expect(readLayoutOf(dir)).toBe('flat');
    const back = createNodeAdapter({ dir, layout: 'flat' });
    for (const key of KEYS) expect(decode(await back.read(key))).toBe(key);
  });

  it('stopped halfway loses nothing, and a second run finishes the move', async () => {
    const flat = createNodeAdapter({ dir, layout: 'flat' });
    // Progress comes every 1,000 moves: three thousand sessions, written 100 at a time.
    const many = Array.from({ length: 3_000 }, (_, index) => `s.many${index}`);
    for (let at = 0; at < many.length; at += 100) {
      await Promise.all(many.slice(at, at + 100).map((key) => flat.write(key, encode(key))));
    }
    const controller = new AbortController();
    const first = await relayout({
      dir,
      layout: 'sharded',
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    expect(first.stopped).toBe(true);
    expect(first.moved).toBeGreaterThan(0);
    expect(first.moved).toBeLessThan(many.length);
    // Every session is whole, in one place or the other.
    expect((await filesUnder(dir)).filter((file) => !file.startsWith('.')).length).toBe(
      many.length,
    );
    const second = await relayout({ dir, layout: 'sharded' });
    expect(second).toEqual({ from: 'sharded', moved: many.length - first.moved, stopped: false });
    const sharded = createNodeAdapter({ dir });
    expect((await collect(sharded.list(''))).length).toBe(many.length);
    // Bounded with room for a loaded machine: 3,000 writes and two passes over them.
  }, 120_000);

  it('never overwrites a file already where the new layout keeps it', async () => {
    const sharded = createNodeAdapter({ dir, layout: 'sharded' });
    await sharded.write('abc', encode('newer'));
    await fs.writeFile(join(dir, 'abc'), 'older', { mode: 0o600 });
    await relayout({ dir, layout: 'sharded' });
    expect(decode(await sharded.read('abc'))).toBe('newer');
    expect(await fs.readdir(dir)).not.toContain('abc');
  });
});

import { Volume } from 'memfs';
import { describe, expect, it } from 'vitest';
import { createMemoryAdapter } from '../src/index.js';

describe('createMemoryAdapter', () => {
  it('stores each key as a 0600 file in /sessions of its own volume', async () => {
    const adapter = createMemoryAdapter();
    await adapter.write('abc', new TextEncoder().encode('value'));
    expect(adapter.dir).toBe('/sessions');
    expect(adapter.volume.readFileSync('/sessions/abc', 'utf8')).toBe('value');
    expect(adapter.volume.statSync('/sessions/abc').mode & 0o777).toBe(0o600);
    expect(adapter.volume.statSync('/sessions').mode & 0o777).toBe(0o700);
  });

  it('gives every adapter its own volume unless one is passed', async () => {
    const first = createMemoryAdapter();
    const second = createMemoryAdapter();
    await first.write('k', new Uint8Array([1]));
    expect(await second.read('k')).toBeNull();

    const volume = new Volume();
    const writer = createMemoryAdapter({ volume, dir: '/shared' });
    const reader = createMemoryAdapter({ volume, dir: '/shared' });
    await writer.write('k', new Uint8Array([2]));
    expect((await reader.read('k'))?.data).toEqual(new Uint8Array([2]));
  });

  it('reads a file changed in the volume behind its back', async () => {
    const adapter = createMemoryAdapter();
    await adapter.write('k', new Uint8Array([1]));
    adapter.volume.writeFileSync('/sessions/k', 'tampered');
    expect(new TextDecoder().decode((await adapter.read('k'))?.data)).toBe('tampered');
  });
});

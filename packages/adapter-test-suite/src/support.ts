import {
  type ErrorCode,
  type FsAdapter,
  hasErrorCode,
  type ReadOptions,
} from '@sessionfs/core/adapter';
import { expect } from 'vitest';

const enc = new TextEncoder();
export const bytes = (text: string): Uint8Array => enc.encode(text);

/** A value of `size` bytes in which every position depends on `seed`, so two never match. */
export function patterned(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) out[i] = (i * 31 + seed * 17 + (i >> 8)) & 0xff;
  return out;
}

/** Whether two byte arrays hold the same bytes (cheaper than `toEqual` on megabytes). */
export function sameBytes(a: Uint8Array | null, b: Uint8Array): boolean {
  return a !== null && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

/** The bytes stored under `key`, or null. */
export async function readData(
  adapter: FsAdapter,
  key: string,
  options?: ReadOptions,
): Promise<Uint8Array | null> {
  return (await adapter.read(key, options))?.data ?? null;
}

export async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, `expected a rejection with ${code}`).toBeDefined();
  expect(hasErrorCode(error, code as ErrorCode)).toBe(true);
}

/** The value under `key` as text, or null. */
export async function readText(adapter: FsAdapter, key: string): Promise<string | null> {
  const data = await readData(adapter, key);
  return data === null ? null : new TextDecoder().decode(data);
}

/**
 * Runs `round` again and again over a few keys, for `raceMs` at most (and 2,000 rounds),
 * and checks that it ran often enough to mean something.
 */
export async function race(
  raceMs: number,
  round: (key: string, base: number, index: number) => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + raceMs;
  let rounds = 0;
  for (; Date.now() < deadline && rounds < 2_000; rounds += 1) {
    await round(`race-${rounds % 8}`, Date.now(), rounds);
  }
  expect(rounds).toBeGreaterThan(10);
}

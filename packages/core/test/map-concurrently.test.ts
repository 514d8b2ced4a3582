import { describe, expect, it } from 'vitest';
import { mapConcurrently } from '../src/map-concurrently.js';

async function* numbers(count: number, pulled: { count: number }) {
  for (let i = 0; i < count; i += 1) {
    pulled.count += 1;
    yield i;
  }
}

describe('mapConcurrently', () => {
  it('maps every item with at most `limit` operations under way', async () => {
    let running = 0;
    let peak = 0;
    const results: number[] = [];
    const pulled = { count: 0 };
    for await (const value of mapConcurrently(numbers(100, pulled), 5, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, n % 3));
      running -= 1;
      return n * 2;
    })) {
      results.push(value);
    }
    expect(peak).toBe(5);
    expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i * 2));
  });

  it('pulls from the source only as operations finish', async () => {
    const pulled = { count: 0 };
    const mapped = mapConcurrently(numbers(1_000, pulled), 4, async (n) => n);
    for await (const _ of mapped) break;
    expect(pulled.count).toBeLessThanOrEqual(5);
  });

  it('rejects with the first failure and closes the source', async () => {
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; ; i += 1) yield i;
      } finally {
        closed = true;
      }
    }
    const mapped = mapConcurrently(source(), 3, async (n) => {
      if (n === 7) throw new Error('boom');
      return n;
    });
    await expect(async () => {
      for await (const _ of mapped) {
        // drain
      }
    }).rejects.toThrow('boom');
    expect(closed).toBe(true);
  });
});

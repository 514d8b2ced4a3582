import { describe, expect, it } from 'vitest';
import { BoundedLru } from '../src/bounded-lru.js';

describe('BoundedLru', () => {
  it('evicts the least recently used entry past the count bound', () => {
    const lru = new BoundedLru<number>(3, 1_000);
    lru.set('a', 1, 1);
    lru.set('b', 2, 1);
    lru.set('c', 3, 1);
    expect(lru.get('a')).toBe(1);
    lru.set('d', 4, 1);
    expect(lru.get('b')).toBeUndefined();
    expect(lru.get('a')).toBe(1);
    expect(lru.size).toBe(3);
  });

  it('evicts past the byte bound and never keeps an entry larger than the bound', () => {
    const lru = new BoundedLru<string>(100, 10);
    lru.set('a', 'x', 4);
    lru.set('b', 'y', 4);
    lru.set('c', 'z', 4);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.bytes).toBe(8);
    lru.set('huge', 'h', 11);
    expect(lru.get('huge')).toBeUndefined();
    expect(lru.bytes).toBe(8);
  });

  it('accounts bytes on replace and delete', () => {
    const lru = new BoundedLru<string>(10, 100);
    lru.set('a', 'x', 10);
    lru.set('a', 'y', 30);
    expect(lru.bytes).toBe(30);
    lru.delete('a');
    expect(lru.bytes).toBe(0);
    expect(lru.size).toBe(0);
  });

  it('stays within the byte bound when an entry grows, and drops one that outgrows it', () => {
    const lru = new BoundedLru<string>(10, 100);
    lru.set('a', 'x', 40);
    lru.set('b', 'y', 40);
    lru.set('b', 'y2', 50);
    expect(lru.bytes).toBe(90);
    lru.set('a', 'x2', 60);
    expect(lru.bytes).toBeLessThanOrEqual(100);
    expect(lru.get('a')).toBe('x2');
    expect(lru.get('b')).toBeUndefined();
    lru.set('a', 'x3', 101);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.bytes).toBe(0);
  });

  it('never evicts the entry just set, even when every other one was used', () => {
    const lru = new BoundedLru<number>(3, 1_000);
    lru.set('a', 1, 1);
    lru.set('b', 2, 1);
    lru.set('c', 3, 1);
    for (const key of ['a', 'b', 'c']) lru.get(key);
    lru.set('d', 4, 1);
    expect(lru.get('d')).toBe(4);
    expect(lru.size).toBe(3);
  });
});

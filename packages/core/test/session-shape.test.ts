import { describe, expect, it } from 'vitest';
import { isoString } from '../src/session-shape.js';

describe('isoString', () => {
  it('formats like Date#toISOString, within a second and across seconds, days, years and the whole range', () => {
    const samples = [
      0,
      1,
      999,
      1000,
      59_999,
      86_399_999,
      86_400_000,
      Date.UTC(2026, 10, 27, 23, 59, 59, 999),
      Date.UTC(2026, 10, 28),
      Date.UTC(2024, 1, 29, 12, 0, 0, 5),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1, 0, 0, 0, 10),
      8.64e15,
      1_900_000_000_123.7,
    ];
    // A walk through time in uneven steps, forwards and back.
    let time = Date.UTC(2026, 0, 1);
    for (let step = 0; step < 2_000; step += 1) {
      time += ((step * 7_919_011) % 97_000_003) * (step % 5 === 0 ? -1 : 1);
      samples.push(time);
    }
    // Runs within one second, and across its edges both ways.
    const second = Date.UTC(2026, 10, 27, 12, 30, 15);
    for (const offset of [0, 1, 500, 999, 1_000, 1_001, 999, -1, 0, 60_000, 59_999]) {
      samples.push(second + offset);
    }
    for (const ms of samples) expect(isoString(ms), String(ms)).toBe(new Date(ms).toISOString());
  });
});

import { usageError } from './errors.js';

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90s`, `15m`, `1h`, `2d`, `1w` (or a number of ms) as ms; a usage error otherwise. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/i.exec(text.trim());
  const unit = DURATION_UNITS[(match?.[2] ?? 'ms').toLowerCase()];
  if (!match || unit === undefined) {
    throw usageError(`"${text}" is not a duration`, 'write it as 90s, 15m, 1h, 2d or 1w');
  }
  return Number(match[1]) * unit;
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  kib: 1_024,
  mib: 1_048_576,
  gib: 1_073_741_824,
};

/** `512`, `100kB`, `1MB`, `4KiB` as bytes (kB = 1,000, KiB = 1,024); a usage error otherwise. */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b|b)?$/i.exec(text.trim());
  const unit = SIZE_UNITS[(match?.[2] ?? 'b').toLowerCase()];
  if (!match || unit === undefined) {
    throw usageError(`"${text}" is not a size`, 'write it as 512, 100kB, 1MB or 4KiB');
  }
  return Math.round(Number(match[1]) * unit);
}

const numberFormat = new Intl.NumberFormat('en-US');

/** 1234567 as `1,234,567`. */
export function count(value: number): string {
  return numberFormat.format(value);
}

/** Bytes as `812 B`, `12.3 kB`, `4.5 MB`, `1.2 GB` (powers of 1,000). */
export function bytes(value: number): string {
  if (value < 1_000) return `${value} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let scaled = value;
  let unit = 'B';
  for (const next of units) {
    if (scaled < 1_000) break;
    scaled /= 1_000;
    unit = next;
  }
  return `${scaled.toFixed(scaled < 10 ? 1 : 0)} ${unit}`;
}

/** A span of ms as `45s`, `12m`, `3h 05m`, `2d 04h`. */
export function span(ms: number): string {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
  return `${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, '0')}h`;
}

/** An expiry as its ISO time and how far from now: `2026-12-05T10:00:00.000Z (in 3h 05m)`. */
export function expiry(expiresAt: number, now: number): string {
  const when = expiresAt - now;
  const relative = when > 0 ? `in ${span(when)}` : `${span(when)} ago`;
  return `${isoTime(expiresAt)} (${relative})`;
}

/** An epoch-ms time as ISO 8601; `never` past what a `Date` holds. */
export function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? 'never' : date.toISOString();
}

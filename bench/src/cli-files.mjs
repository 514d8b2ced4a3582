// Session directories for the CLI section, written fast and exactly as the node adapter
// writes them: one record per file under the session's key (`s.` and the base32 of the id),
// the file's mode, and the expiry in the file's mtime as well as in the record's header.
//
// The record comes from a real store (one session, written once); every file is a copy of
// it with its own expiry in the header. The header's expiry has the same number of digits
// for every expiry in the years 2001 to 2286, and the payload carries no expiry (the store
// takes `cookie.expires` out and marks the header `e`), so each copy is byte for byte what
// the store would write for that session with that expiry. Ids are 32 base64url characters
// (24 random bytes), as @fastify/session's.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  futimesSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore, sessionKey } from '@sessionfs/core';
import { makeSession } from './sessions.mjs';

export const HOUR_MS = 60 * 60 * 1000;
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const MAGIC = 'sfs1 ';

/** A store over `dir` as an application would open it (no reaper: nothing runs meanwhile). */
export function openStore(dir) {
  return createSessionStore({
    adapter: createNodeAdapter({ dir }),
    reapInterval: false,
    logger: silent,
  });
}

/** The session the store writes: index 1 of the bench's sessions, expiring at `expiresAt`. */
export function sampleSession(expiresAt) {
  const session = makeSession(1);
  session.cookie.expires = new Date(expiresAt).toISOString();
  return session;
}

/**
 * One record as the store writes it (into the scratch directory `scratch`, removed
 * afterwards), the file's and the directory's mode, and the width of the header's expiry.
 */
export async function sampleRecord(scratch, expiresAt = Date.now() + HOUR_MS) {
  const store = openStore(scratch);
  try {
    await store.set('sample', sampleSession(expiresAt));
  } finally {
    await store.close();
  }
  const path = join(scratch, sessionKey('sample'));
  const record = readFileSync(path);
  const mode = statSync(path).mode & 0o7777;
  const dirMode = statSync(scratch).mode & 0o7777;
  rmSync(scratch, { recursive: true, force: true });
  const header = record.toString('latin1', 0, record.indexOf(0x0a));
  const match = /^sfs1 (\d+) e /.exec(header);
  if (match === null || Number(match[1]) !== expiresAt) {
    throw new Error(`unexpected record header: ${JSON.stringify(header)}`);
  }
  return { record, mode, dirMode, expiryDigits: match[1].length };
}

/** The expiry of file `index` of `count`: in the past, or spread over the next 24 h. */
export function expiryFor(kind, index, count, now) {
  if (kind === 'expired') return now - 60_000 - Math.floor(Math.random() * 23 * HOUR_MS);
  // Live: from 15 minutes on (none expires during a run) to 24 hours from now.
  const first = 15 * 60_000;
  return now + first + Math.floor(((24 * HOUR_MS - first) * index) / Math.max(1, count));
}

/**
 * Writes `count` sessions into `dir` (created as the adapter creates it), each under a
 * fresh id, expired or live. Synchronous: one open, write, futimes (the expiry, as the
 * adapter sets it) and close per file. Returns the ids and expiries when `keep` is set.
 */
export function writeSessions(dir, count, kind, sample, { keep = false, now = Date.now() } = {}) {
  const { record, mode, dirMode, expiryDigits } = sample;
  // Own copy: each file's expiry is written into its header in place.
  const bytes = Buffer.from(record);
  mkdirSync(dir, { recursive: true, mode: dirMode });
  const kept = [];
  const batch = 4096;
  let random = Buffer.alloc(0);
  for (let index = 0; index < count; index += 1) {
    const slot = index % batch;
    if (slot === 0) random = randomBytes(24 * batch);
    const id = random.toString('base64url', slot * 24, slot * 24 + 24);
    const expiresAt = expiryFor(kind, index, count, now);
    const digits = String(expiresAt);
    if (digits.length !== expiryDigits) throw new Error(`expiry out of range: ${expiresAt}`);
    bytes.write(digits, MAGIC.length, 'latin1');
    const fd = openSync(join(dir, sessionKey(id)), 'wx', mode);
    try {
      let written = 0;
      while (written < bytes.byteLength) {
        written += writeSync(fd, bytes, written, bytes.byteLength - written);
      }
      futimesSync(fd, Date.now() / 1000, expiresAt / 1000);
    } finally {
      closeSync(fd);
    }
    if (keep) kept.push({ id, expiresAt });
  }
  return kept;
}

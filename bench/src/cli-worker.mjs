// Fresh process for the CLI section. Usage:
//   node cli-worker.mjs generate <dir> <count> <expired|live> [<part>]
//     writes <count> sessions into <dir> as the node adapter would (see cli-files.mjs);
//     several parts may write into the same directory at once;
//   node cli-worker.mjs verify <dir>
//     checks the generator against the store on a small sample: a generated file is byte
//     for byte, mode and mtime what the store writes for the same session and expiry, the
//     store reads every live one back with its expiry, and every expired one as missing;
//   node cli-worker.mjs floor <dir> <variant>
//     removes every file of <dir> with a bare loop (the disk's floor for `prune`):
//     `sync` (opendirSync, readSync, unlinkSync), `await-sync` (fs.promises.opendir,
//     unlinkSync), or `concurrent-<n>` (fs.promises.opendir, up to <n> fs.promises.unlink
//     at a time; 1 is one await after the other).
// Each prints one line of JSON.
import { lstatSync, opendirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { opendir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sessionKey } from '@sessionfs/core';
import { HOUR_MS, openStore, sampleRecord, sampleSession, writeSessions } from './cli-files.mjs';

const [mode, dir, ...rest] = process.argv.slice(2);
const print = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
// Entries per directory read: large enough that the listing costs little next to unlinks.
const BUFFER_SIZE = 1024;

if (mode === 'generate') {
  const [countText, kind, part = '0'] = rest;
  const count = Number(countText);
  if (!(count >= 0) || (kind !== 'expired' && kind !== 'live')) throw new Error('bad arguments');
  const sample = await sampleRecord(`${dir}.record-${part}`);
  const started = performance.now();
  writeSessions(dir, count, kind, sample);
  print({ count, seconds: (performance.now() - started) / 1000 });
} else if (mode === 'verify') {
  print(await verify(dir));
} else if (mode === 'floor') {
  print(await floor(dir, rest[0]));
} else {
  throw new Error(`unknown mode ${mode}`);
}

async function verify(root) {
  const now = Date.now();
  const problems = [];
  // 1. The same session at the same expiry, by the store and by the generator.
  const expiresAt = now + 3 * HOUR_MS + 123;
  const byStore = join(root, 'by-store');
  const store = openStore(byStore);
  await store.set('same-id', sampleSession(expiresAt));
  await store.close();
  const sample = await sampleRecord(join(root, 'gen'));
  const generated = join(root, 'by-generator');
  const [file] = writeSessions(generated, 1, 'live', sample, { keep: true, now });
  // The generated file, its header's expiry set to the store's: the same bytes.
  const ours = readFileSync(join(generated, sessionKey(file.id)));
  const theirs = readFileSync(join(byStore, sessionKey('same-id')));
  const oursAt = ours.toString('latin1').replace(/^sfs1 \d+ /, `sfs1 ${expiresAt} `);
  if (oursAt !== theirs.toString('latin1')) problems.push('record bytes differ from the store');
  const [ourStat, theirStat] = [
    statSync(join(generated, sessionKey(file.id))),
    statSync(join(byStore, sessionKey('same-id'))),
  ];
  if (ourStat.mode !== theirStat.mode) problems.push('file mode differs from the store');
  if (statSync(generated).mode !== statSync(byStore).mode) {
    problems.push('directory mode differs from the store');
  }
  if (Math.round(ourStat.mtimeMs) !== file.expiresAt) problems.push('mtime is not the expiry');

  // 2. The store reads generated sessions back: live ones with their expiry, expired ones
  // as missing.
  const mixed = join(root, 'mixed');
  const live = writeSessions(mixed, 200, 'live', sample, { keep: true });
  const expired = writeSessions(mixed, 200, 'expired', sample, { keep: true });
  const reader = openStore(mixed);
  let liveRead = 0;
  let expiredMissing = 0;
  for (const { id, expiresAt: at } of live) {
    const session = await reader.get(id);
    if (session && new Date(session.cookie.expires).getTime() === at) liveRead += 1;
  }
  for (const { id } of expired) if ((await reader.get(id)) == null) expiredMissing += 1;
  await reader.close();
  if (liveRead !== live.length) problems.push(`${live.length - liveRead} live sessions misread`);
  if (expiredMissing !== expired.length) {
    problems.push(`${expired.length - expiredMissing} expired sessions read as live`);
  }
  return { ok: problems.length === 0, problems, liveRead, expiredMissing };
}

async function floor(target, variant) {
  const started = performance.now();
  let removed = 0;
  if (variant === 'sync') {
    const listing = opendirSync(target, { bufferSize: BUFFER_SIZE });
    for (let entry = listing.readSync(); entry !== null; entry = listing.readSync()) {
      unlinkSync(join(target, entry.name));
      removed += 1;
    }
    listing.closeSync();
  } else if (variant === 'take-sync') {
    // What a removal that never loses a session written meanwhile costs at the least: the
    // node adapter's take (check, rename aside, check the same inode again, unlink).
    const listing = opendirSync(target, { bufferSize: BUFFER_SIZE });
    for (let entry = listing.readSync(); entry !== null; entry = listing.readSync()) {
      const path = join(target, entry.name);
      const held = join(target, `.${entry.name}.held`);
      const checked = lstatSync(path);
      renameSync(path, held);
      if (lstatSync(held).ino !== checked.ino) throw new Error('take: another file');
      unlinkSync(held);
      removed += 1;
    }
    listing.closeSync();
  } else if (variant === 'await-sync') {
    for await (const entry of await opendir(target, { bufferSize: BUFFER_SIZE })) {
      unlinkSync(join(target, entry.name));
      removed += 1;
    }
  } else if (variant?.startsWith('concurrent-')) {
    const limit = Number(variant.slice('concurrent-'.length));
    if (!(limit >= 1)) throw new Error(`bad variant ${variant}`);
    let inFlight = 0;
    let wake = null;
    let failure = null;
    const settled = (error) => {
      inFlight -= 1;
      if (error) failure ??= error;
      else removed += 1;
      if (wake !== null) {
        const resume = wake;
        wake = null;
        resume();
      }
    };
    for await (const entry of await opendir(target, { bufferSize: BUFFER_SIZE })) {
      while (inFlight >= limit) await new Promise((resolve) => (wake = resolve));
      if (failure) break;
      inFlight += 1;
      unlink(join(target, entry.name)).then(() => settled(null), settled);
    }
    while (inFlight > 0) await new Promise((resolve) => (wake = resolve));
    if (failure) throw failure;
  } else {
    throw new Error(`unknown floor variant ${variant}`);
  }
  const seconds = (performance.now() - started) / 1000;
  return { variant, removed, seconds, filesPerSecond: removed / seconds };
}

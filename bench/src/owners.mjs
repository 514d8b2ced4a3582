// "Log out everywhere": how long `sessionsOf(owner)` and `destroyOwner(owner)` take for an
// owner with 100 sessions among many (1,000,000 in a full run), over files, in a fresh
// process (owners-worker.mjs), beside the floor: the bare listing of the owner's 100
// entries and the unlink of their 100 files, with no check at all.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRedis } from './http-level.mjs';
import { fmt, run, table } from './util.mjs';

const worker = fileURLToPath(new URL('./owners-worker.mjs', import.meta.url));

/** The targets, in ms: files, then Redis. */
export const OWNER_TARGETS_MS = { files: 100, redis: 20 };

export async function ownersSection({ root, count, owned, rounds, log }) {
  log(`owners: ${fmt(owned)} sessions of one owner among ${fmt(count)}, ${rounds} rounds`);
  const redis = await startRedis();
  let stdout;
  try {
    ({ stdout } = await run(
      process.execPath,
      [worker, join(root, 'owners'), String(count), String(owned), String(rounds), redis.url],
      { maxBuffer: 1 << 20, timeout: 60 * 60_000 },
    ));
  } finally {
    await redis.destroy();
  }
  const results = JSON.parse(stdout.trim().split('\n').pop());
  const rows = results.backends.map((r) => {
    const target = OWNER_TARGETS_MS[r.kind];
    const met = (ms) => (ms < target ? 'yes' : 'no');
    return [
      r.label,
      `${r.sessionsOf.medianMs.toFixed(1)} ms (max ${r.sessionsOf.maxMs.toFixed(1)})`,
      `${r.destroyOwner.medianMs.toFixed(1)} ms (max ${r.destroyOwner.maxMs.toFixed(1)})`,
      r.floorMs === undefined ? 'n/a' : `${r.floorMs.toFixed(1)} ms`,
      `< ${target} ms`,
      `${met(r.sessionsOf.medianMs)} / ${met(r.destroyOwner.medianMs)}`,
    ];
  });
  const markdown = [
    `### Log out everywhere: one owner's ${fmt(owned)} sessions among ${fmt(results.count)}`,
    `Medians of ${rounds} rounds; each round stores the owner's ${fmt(owned)} sessions again through the store, then times \`sessionsOf\` (all ${fmt(owned)} yielded and confirmed against their records) and \`destroyOwner\` (all ${fmt(owned)} ended). The other sessions belong to ${fmt(results.otherOwners)} other owners, ten each, each indexed, written directly (files: the record the store writes, and the index's links; Redis: values and the owners' sets, pipelined). The floor is the least any index can do on files: list the owner's entries and remove their records, without reading or checking anything. Setting up took ${fmt(results.setupSeconds)} s for files, ${fmt(results.redisSetupSeconds)} s for Redis.`,
    table(
      ['backend', '`sessionsOf`', '`destroyOwner`', 'floor (list + remove)', 'target', 'met'],
      rows,
    ),
  ].join('\n\n');
  return { markdown, results };
}

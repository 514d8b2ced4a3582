// Writes: concurrent writes of different sessions through each way of writing a file
// atomically (temp file, expiry, rename), in a fresh process: the adapter as it is, in a
// flat and a sharded directory and on the event loop, the bare sequence it made before and
// with its independent calls at once, and the whole sequence as one task of a worker thread.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, median, run, table } from './util.mjs';

const worker = fileURLToPath(new URL('./writes-worker.mjs', import.meta.url));
const BASELINE = 'six round trips, one after the other';

export async function writesSection({ root, rounds, writes, log }) {
  log(`writes: ${fmt(writes)} writes per path and round, ${rounds} rounds`);
  const { stdout } = await run(
    process.execPath,
    [worker, join(root, 'writes'), String(rounds), String(writes)],
    { maxBuffer: 1 << 20, timeout: 30 * 60_000 },
  );
  const rates = JSON.parse(stdout.trim().split('\n').pop());
  const baseline = rates[BASELINE];
  const rows = Object.entries(rates).map(([name, perRound]) => {
    // Within each round, against the bare sequence of that round.
    const ratio = median(perRound.map((rate, round) => rate / baseline[round]));
    return [name, fmt(Math.round(median(perRound))), `${ratio.toFixed(2)}x`];
  });
  const markdown = [
    `### Writes: ${fmt(writes)} writes of 300 bytes, 50 at once over 1,000 sessions (median of ${rounds} rounds)`,
    table(['write path', 'writes/s', `vs ${BASELINE} (within round)`], rows),
  ].join('\n\n');
  return { markdown, results: rates };
}

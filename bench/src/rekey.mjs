// Key rotation: how fast `store.rekey()` re-seals stored sessions with a new key, and how
// much it holds up the event loop meanwhile (p99 of its delay), in a fresh process.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, run, table } from './util.mjs';

const worker = fileURLToPath(new URL('./rekey-worker.mjs', import.meta.url));

export async function rekeySection({ root, count, log }) {
  log(`rekey: ${fmt(count)} sealed sessions re-sealed with a new key`);
  const { stdout } = await run(process.execPath, [worker, join(root, 'rekey'), String(count)], {
    maxBuffer: 1 << 20,
    timeout: 30 * 60_000,
  });
  const r = JSON.parse(stdout.trim().split('\n').pop());
  const markdown = [
    `### Key rotation: \`store.rekey()\` over ${fmt(count)} encrypted sessions (node adapter)`,
    table(
      ['sessions re-sealed', 'seconds', 'sessions/s', 'event-loop delay p99', 'max', 'failed'],
      [
        [
          fmt(r.rekeyed),
          r.seconds.toFixed(1),
          fmt(r.rate),
          `${r.p99Ms.toFixed(1)} ms`,
          `${r.maxMs.toFixed(1)} ms`,
          fmt(r.failed),
        ],
      ],
    ),
  ].join('\n\n');
  return { markdown, results: r };
}

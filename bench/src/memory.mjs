// Memory: heap and RSS after many distinct sessions pass through the store.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, run, table } from './util.mjs';

const worker = fileURLToPath(new URL('./memory-worker.mjs', import.meta.url));
const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

export async function memory({ root, count, log }) {
  log(`memory: ${fmt(count)} distinct sessions through a default store`);
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', worker, join(root, 'memory'), String(count)],
    {
      maxBuffer: 1 << 20,
      timeout: 30 * 60_000,
    },
  );
  const m = JSON.parse(stdout.trim().split('\n').pop());
  const growth = m.heapAfter - m.heapBefore;
  const markdown = [
    `### Memory: ${fmt(count)} distinct sessions through sessionfs (default options)`,
    table(
      [
        'heap before',
        'heap after',
        'heap growth (target < 20 MB)',
        'RSS before',
        'RSS after',
        'seconds',
      ],
      [
        [
          mb(m.heapBefore),
          mb(m.heapAfter),
          `${mb(growth)} (${growth < 20 * 2 ** 20 ? 'met' : 'NOT met'})`,
          mb(m.rssBefore),
          mb(m.rssAfter),
          m.seconds.toFixed(1),
        ],
      ],
    ),
  ].join('\n\n');
  return { markdown, results: { ...m, growth } };
}

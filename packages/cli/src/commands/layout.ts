import { readLayoutOf, relayout } from '@sessionfs/adapter-node';
import { usageError } from '../errors.js';
import { writeOut } from '../io.js';
import { count } from '../units.js';
import { type CommandContext, type CommonOptions, progressOf } from './context.js';

const LAYOUTS = ['flat', 'sharded'] as const;

/**
 * `layout [flat|sharded]`: prints how the directory spreads its files, or lays it out
 * anew (see `relayout`), with the app stopped.
 */
export async function layout(
  context: CommandContext<CommonOptions>,
  wanted: string | undefined,
): Promise<void> {
  const { options, io } = context;
  if (options.dir === undefined) throw usageError('layout needs --dir: Redis has no layout');
  if (wanted === undefined) {
    const found = readLayoutOf(options.dir);
    if (found === undefined) throw usageError(`${options.dir} does not exist`);
    await writeOut(io.stdout, `${found}\n`);
    return;
  }
  if (!(LAYOUTS as readonly string[]).includes(wanted)) {
    throw usageError(`unknown layout ${JSON.stringify(wanted)}`, 'give flat or sharded');
  }
  const progress = progressOf(context, 'layout', 'files', undefined);
  const started = Date.now();
  try {
    const result = await relayout({
      dir: options.dir,
      layout: wanted as (typeof LAYOUTS)[number],
      signal: io.signal,
      onProgress: (moved) => progress.update(moved),
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    const lines = [
      `${result.from} -> ${wanted}: moved ${count(result.moved)} session file${result.moved === 1 ? '' : 's'} in ${seconds} s`,
    ];
    if (result.stopped) lines.push('stopped before the end: run it again before starting the app');
    await writeOut(io.stdout, `${lines.join('\n')}\n`);
  } finally {
    progress.stop();
  }
}

import { Presets, SingleBar } from 'cli-progress';
import type { Io } from './io.js';
import { count, span } from './units.js';

/** How often a terminal bar is redrawn, and a plain progress line written otherwise. */
const BAR_FPS = 5;
const PLAIN_LINE_MS = 5_000;
/** Sets how often plain lines are written (ms), for a log that wants more or fewer. */
export const PROGRESS_VARIABLE = 'SESSIONFS_PROGRESS_MS';

/** The progress of a long command, on stderr: a bar on a terminal, plain lines otherwise. */
export interface Progress {
  /** `done` items so far. */
  update(done: number): void;
  /** Draws the last state and ends the line. */
  stop(): void;
}

/**
 * A progress display for `label` over `total` items (`undefined`: not known) called `unit`.
 * On a terminal a bar with the rate and ETA is redrawn in place. Elsewhere (a log, a pipe)
 * a plain line with the same figures is written every few seconds, and one at the end; a
 * command done before the first is due writes none.
 */
export function startProgress(
  io: Io,
  label: string,
  unit: string,
  total: number | undefined,
): Progress {
  const terminal = io.stderr.isTTY === true;
  const startedAt = Date.now();
  const plainEvery = Number(io.env[PROGRESS_VARIABLE]) || PLAIN_LINE_MS;
  // cli-progress's own {value}, {total} and {eta} are plain numbers: these are formatted.
  const figures = (done: number) => {
    const elapsed = Math.max(Date.now() - startedAt, 1);
    const rate = (done / elapsed) * 1000;
    const left = total === undefined ? undefined : Math.max(total - done, 0);
    return {
      done: count(done),
      of: total === undefined ? '?' : count(total),
      rate: count(Math.round(rate)),
      left: left === undefined || rate === 0 ? '?' : span((left / rate) * 1000),
      took: span(elapsed),
    };
  };
  const known = total === undefined ? '{done}' : '{done}/{of}';
  const bar = new SingleBar({
    ...Presets.shades_classic,
    stream: io.stderr,
    format: terminal
      ? `${label} [{bar}] ${total === undefined ? '' : '{percentage}% | '}${known} ${unit} | {rate}/s | ETA {left}`
      : `${label}: ${known} ${unit}, {rate}/s, {took} elapsed${total === undefined ? '' : ', ETA {left}'}`,
    barsize: 24,
    hideCursor: terminal,
    noTTYOutput: true,
    notTTYSchedule: plainEvery,
    fps: BAR_FPS,
    gracefulExit: false,
  });
  let started = false;
  let last = 0;
  const start = () => {
    started = true;
    bar.start(total ?? 0, last, figures(last));
  };
  if (terminal) start();
  // Off a terminal, the first line is due after one period: short commands write none.
  const firstLine = terminal ? undefined : setTimeout(start, plainEvery);
  firstLine?.unref();
  return {
    update(done) {
      last = done;
      if (started) bar.update(done, figures(done));
    },
    stop() {
      clearTimeout(firstLine);
      if (!started) return;
      bar.update(last, figures(last));
      bar.stop();
      if (terminal) io.stderr.write('\n');
    },
  };
}

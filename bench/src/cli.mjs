// The `sessionfs` CLI at scale: every command streams (peak RSS under 100 MB), `prune`
// removes expired sessions at ≥ 0.9x the disk's floor (a bare readdir/unlink loop over the
// same files), and `stats` over the whole directory finishes in under a minute.
//
// Each measured run gets a freshly generated directory (cli-worker.mjs `generate`, the node
// adapter's own layout), flushed to disk (`sync`) before the clock starts. The CLI runs as
// a child process (`packages/cli/dist/bin.mjs <command> --dir <dir>`, run as installed), timed from
// spawn to exit, its peak RSS read from /proc/<pid>/status (VmHWM, the kernel's high-water
// mark, and VmRSS) every 50 ms.
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fmt, median, run, table } from './util.mjs';

const worker = fileURLToPath(new URL('./cli-worker.mjs', import.meta.url));
/** The CLI under test: the workspace's build, or `BENCH_CLI_BIN`. */
export const cliBin =
  process.env.BENCH_CLI_BIN ??
  fileURLToPath(new URL('../../packages/cli/dist/bin.mjs', import.meta.url));
/** The floor's loops (cli-worker.mjs `floor`): the best of them is the floor. */
export const FLOOR_VARIANTS = ['sync', 'concurrent-4', 'concurrent-16', 'concurrent-64'];
/**
 * Not a floor of the target, shown beside it: the least a removal that never loses a
 * session written meanwhile must do per file (see cli-worker.mjs `take-sync`).
 */
const TAKE_FLOOR = 'take-sync';
const TIMEOUT_MS = 15 * 60_000;
const MB = 2 ** 20;
const RSS_TARGET = 100 * MB;
const PRUNE_TARGET = 0.9;
const STATS_TARGET_S = 60;
const exec = promisify(execFile);
const mb = (bytes) => (Number.isFinite(bytes) ? `${(bytes / MB).toFixed(1)} MB` : 'n/a');
const last = (stdout) => JSON.parse(stdout.trim().split('\n').pop());

const floorLabels = {
  sync: 'opendirSync + unlinkSync, one after the other',
  'await-sync': 'fs.promises.opendir + unlinkSync',
  'take-sync': 'the safe-removal loop: lstat, rename aside, lstat, unlink',
};
const floorLabel = (variant) =>
  floorLabels[variant] ??
  `fs.promises.opendir + fs.promises.unlink, ${variant.slice('concurrent-'.length)} at a time`;

/** Removes `dir` (a million files: `rm -rf`, faster than fs.rm), never failing. */
async function remove(dir) {
  await exec('rm', ['-rf', dir], { timeout: TIMEOUT_MS }).catch(() => {});
}

/**
 * `count` sessions written into `dir`, expired or live, by one generator process per core
 * (two at most: they share one directory), then flushed to disk.
 */
async function generate(dir, count, kind) {
  const parts = Math.max(1, Math.min(2, availableParallelism()));
  const started = performance.now();
  const written = await Promise.all(
    Array.from({ length: parts }, async (_, part) => {
      const share = Math.floor(count / parts) + (part < count % parts ? 1 : 0);
      const { stdout } = await run(
        process.execPath,
        [worker, 'generate', dir, String(share), kind, String(part)],
        { maxBuffer: 1 << 20, timeout: TIMEOUT_MS },
      );
      return last(stdout).count;
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const flushStarted = performance.now();
  await exec('sync', [], { timeout: TIMEOUT_MS });
  const flushSeconds = (performance.now() - flushStarted) / 1000;
  const total = written.reduce((a, b) => a + b, 0);
  if (total !== count) throw new Error(`generated ${total} of ${count} sessions`);
  return { kind, count, parts, seconds, filesPerSecond: count / seconds, flushSeconds };
}

/**
 * Peak RSS of a live process from /proc, in bytes: VmHWM, or VmRSS if higher. 0 unless the
 * process runs `program` (not a fork of this one yet to exec).
 */
function peakOf(pid, program) {
  let status;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(program)) return 0;
    status = readFileSync(`/proc/${pid}/status`, 'latin1');
  } catch {
    return 0;
  }
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return Math.max(kb('VmHWM'), kb('VmRSS')) * 1024;
}

/**
 * Runs the executable `args[0]` with the rest as a child (through its `#!` line, as an
 * installed `sessionfs` runs, `env` then exec'ing node in the same process: no shell
 * between), its stdout to /dev/null or kept (the first 64 KB), and measures wall time and
 * peak RSS.
 */
function measure(args, { keepStdout }) {
  return new Promise((resolve, reject) => {
    const devNull = keepStdout ? null : openSync('/dev/null', 'w');
    let child;
    try {
      child = spawn(args[0], args.slice(1), {
        stdio: ['ignore', keepStdout ? 'pipe' : devNull, 'pipe'],
      });
    } catch (error) {
      if (devNull !== null) closeSync(devNull);
      reject(error);
      return;
    }
    if (devNull !== null) closeSync(devNull);
    const started = performance.now();
    let peak = 0;
    let exited = null;
    let timedOut = false;
    const poll = () => {
      if (exited === null) peak = Math.max(peak, peakOf(child.pid, args[0]));
    };
    poll();
    const poller = setInterval(poll, 50);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, TIMEOUT_MS);
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk) => {
      if (stdout.length < 64 * 1024) stdout += chunk;
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-8 * 1024);
    });
    child.on('exit', (code, signal) => {
      exited = { code, signal, seconds: (performance.now() - started) / 1000 };
      clearInterval(poller);
      clearTimeout(timer);
    });
    child.on('error', (error) => {
      clearInterval(poller);
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', () => {
      resolve({ ...exited, timedOut, peakRss: peak, stdout, stderr });
    });
  });
}

/** One CLI command over `dir`: its timing, peak RSS, exit and output. */
async function cli(command, dir, count, { extra = [], keepStdout = true } = {}) {
  const m = await measure([cliBin, command, ...extra, '--dir', dir], { keepStdout });
  const ok = m.code === 0 && !m.timedOut;
  return {
    command: [
      'sessionfs',
      command,
      ...extra,
      '--dir',
      'D',
      ...(keepStdout ? [] : ['> /dev/null']),
    ].join(' '),
    count,
    ok,
    exit: m.timedOut ? 'timed out' : m.signal ? `signal ${m.signal}` : `exit ${m.code}`,
    seconds: m.seconds,
    rate: count / m.seconds,
    peakRss: m.peakRss,
    stdout: m.stdout.trim().slice(0, 2000),
    stderr: m.stderr.trim().slice(-2000),
  };
}

export async function cliSection({
  root,
  count,
  floors = FLOOR_VARIANTS,
  rounds = 1,
  readOnly = true,
  log,
}) {
  if (!existsSync(cliBin)) {
    log(`cli: ${cliBin} is missing: section skipped`);
    return {
      markdown: `### CLI: \`sessionfs\`\n\nSkipped: \`${cliBin}\` is missing. Build it first: \`pnpm turbo run build --filter=@sessionfs/cli\`.`,
      results: { skipped: true },
    };
  }
  const base = join(root, 'cli');
  const results = { count, generation: [], floors: [], commands: [] };
  try {
    // The generator against the store, on a small sample, before any figure is taken.
    const verified = last(
      (
        await run(process.execPath, [worker, 'verify', join(base, 'verify')], {
          maxBuffer: 1 << 20,
          timeout: TIMEOUT_MS,
        })
      ).stdout,
    );
    await remove(join(base, 'verify'));
    if (!verified.ok)
      throw new Error(`cli: generator does not match the store: ${verified.problems}`);

    const fresh = async (name, kind) => {
      const dir = join(base, name);
      log(`cli: writing ${fmt(count)} ${kind} sessions for ${name}`);
      const made = await generate(dir, count, kind);
      results.generation.push({ name, ...made });
      log(
        `cli: written in ${made.seconds.toFixed(1)} s (${fmt(made.filesPerSecond)} files/s), flushed in ${made.flushSeconds.toFixed(1)} s`,
      );
      return dir;
    };

    // The floor (each bare loop over its own fresh directory, in a fresh process) and
    // `prune`, round after round, the order reversed every other round.
    const floorRuns = new Map([...floors, TAKE_FLOOR].map((variant) => [variant, []]));
    const pruneRuns = [];
    for (let round = 0; round < rounds; round += 1) {
      const steps = [...floors, TAKE_FLOOR, 'prune'];
      if (round % 2) steps.reverse();
      for (const step of steps) {
        const dir = await fresh(step === 'prune' ? 'prune' : `floor-${step}`, 'expired');
        if (step === 'prune') {
          log(`cli: sessionfs prune (round ${round + 1}/${rounds})`);
          const pruned = await cli('prune', dir, count);
          pruned.left = readdirSync(dir).length;
          pruned.rate = (count - pruned.left) / pruned.seconds;
          pruneRuns.push(pruned);
          log(`cli: prune ${pruned.exit}, ${pruned.seconds.toFixed(1)} s, ${mb(pruned.peakRss)}`);
        } else {
          log(`cli: floor, ${floorLabel(step)} (round ${round + 1}/${rounds})`);
          const { stdout } = await run(process.execPath, [worker, 'floor', dir, step], {
            maxBuffer: 1 << 20,
            timeout: TIMEOUT_MS,
          });
          const floor = last(stdout);
          if (floor.removed !== count) {
            throw new Error(`cli: floor removed ${floor.removed} of ${count}`);
          }
          floorRuns.get(step).push(floor);
          log(`cli: floor ${step}: ${fmt(floor.filesPerSecond)} files/s`);
        }
        await remove(dir);
      }
    }
    results.floors = floors.map((variant) => {
      const runs = floorRuns.get(variant);
      return {
        variant,
        seconds: median(runs.map((r) => r.seconds)),
        filesPerSecond: median(runs.map((r) => r.filesPerSecond)),
        runs: runs.map((r) => r.filesPerSecond),
      };
    });
    {
      const runs = floorRuns.get(TAKE_FLOOR);
      results.takeFloor = {
        variant: TAKE_FLOOR,
        seconds: median(runs.map((r) => r.seconds)),
        filesPerSecond: median(runs.map((r) => r.filesPerSecond)),
      };
    }
    const best = results.floors.reduce(
      (a, b) => (b.filesPerSecond > (a?.filesPerSecond ?? 0) ? b : a),
      null,
    );
    results.floor = best;
    {
      const byRate = [...pruneRuns].sort((a, b) => a.rate - b.rate);
      const pruned = { ...byRate[Math.floor((byRate.length - 1) / 2)] };
      pruned.seconds = median(pruneRuns.map((r) => r.seconds));
      pruned.rate = median(pruneRuns.map((r) => r.rate));
      pruned.peakRss = Math.max(...pruneRuns.map((r) => r.peakRss));
      pruned.ok = pruneRuns.every((r) => r.ok);
      pruned.left = Math.max(...pruneRuns.map((r) => r.left));
      pruned.runs = pruneRuns.map(({ stdout, stderr, ...r }) => r);
      pruned.ratio = best ? pruned.rate / best.filesPerSecond : Number.NaN;
      pruned.ratioToTake = pruned.rate / results.takeFloor.filesPerSecond;
      pruned.met =
        pruned.ok &&
        pruned.left === 0 &&
        pruned.ratio >= PRUNE_TARGET &&
        pruned.peakRss < RSS_TARGET;
      pruned.target = `≥ ${PRUNE_TARGET}x floor, < 100 MB`;
      results.commands.push(pruned);
    }

    // The read-only commands over live sessions, on one directory.
    if (readOnly) {
      const dir = await fresh('live', 'live');
      for (const [command, options, secondsTarget] of [
        ['stats', {}, STATS_TARGET_S],
        ['ls', { extra: ['--json'], keepStdout: false }],
        ['export', { keepStdout: false }],
      ]) {
        log(`cli: sessionfs ${command}`);
        const r = await cli(command, dir, count, options);
        r.target = secondsTarget ? `< ${secondsTarget} s, < 100 MB` : '< 100 MB';
        r.met =
          r.ok && r.peakRss < RSS_TARGET && (secondsTarget ? r.seconds < secondsTarget : true);
        results.commands.push(r);
        log(`cli: ${command} ${r.exit}, ${r.seconds.toFixed(1)} s, ${mb(r.peakRss)}`);
      }
      await remove(dir);
    }
  } finally {
    await remove(base);
  }

  const met = (ok) => (ok ? 'met' : 'NOT met');
  const rows = [
    ...(results.floor
      ? [
          [
            `bare loop (the floor: ${results.floor.variant})`,
            fmt(count),
            results.floor.seconds.toFixed(1),
            fmt(results.floor.filesPerSecond),
            '1.00x',
            '',
            '',
            '',
          ],
        ]
      : []),
    ...(results.takeFloor && results.floor
      ? [
          [
            'safe-removal loop (lstat, rename aside, lstat, unlink)',
            fmt(count),
            results.takeFloor.seconds.toFixed(1),
            fmt(results.takeFloor.filesPerSecond),
            `${(results.takeFloor.filesPerSecond / results.floor.filesPerSecond).toFixed(2)}x`,
            '',
            '',
            '',
          ],
        ]
      : []),
    ...results.commands.map((r) => [
      `\`${r.command}\`${r.ok ? '' : ` (${r.exit})`}`,
      fmt(r.count),
      r.seconds.toFixed(1),
      fmt(r.rate),
      r.ratio === undefined
        ? ''
        : `${r.ratio.toFixed(2)}x (${r.ratioToTake.toFixed(2)}x of safe removal)`,
      mb(r.peakRss),
      r.target,
      met(r.met),
    ]),
  ];
  const pruneRates = () =>
    (results.commands.find((r) => r.runs)?.runs ?? []).map((r) => fmt(r.rate)).join(', ');
  const generation = results.generation;
  const genSeconds = generation.reduce((a, g) => a + g.seconds, 0);
  const genFiles = generation.reduce((a, g) => a + g.count, 0);
  const outputs = results.commands
    .filter((r) => r.stdout || !r.ok)
    .map(
      (r) =>
        `- \`${r.command}\`: ${r.ok ? '' : `${r.exit}; `}${(r.stdout || r.stderr).split('\n').slice(0, 6).join(' / ')}`,
    );
  const markdown = [
    `### CLI: \`sessionfs\` over ${fmt(count)} sessions (node adapter directory)`,
    table(
      [
        'command',
        'sessions',
        'seconds',
        'sessions/s',
        'ratio to floor',
        'peak RSS',
        'target',
        'met?',
      ],
      rows,
    ),
    `The floor: bare loops, each over its own fresh ${fmt(count)} expired files; the fastest is the floor${rounds > 1 ? ` (medians of ${rounds} rounds; \`prune\` ran ${pruneRates()} files/s)` : ''}:`,
    table(
      ['bare loop', 'seconds', 'files/s', ...(rounds > 1 ? ['each round'] : [])],
      results.floors.map((f) => [
        floorLabel(f.variant),
        f.seconds.toFixed(1),
        fmt(f.filesPerSecond),
        ...(rounds > 1 ? [f.runs.map(fmt).join(', ')] : []),
      ]),
    ),
    `Generator: ${fmt(genFiles)} files in ${genSeconds.toFixed(1)} s over ${generation.length} directories (${fmt(genFiles / genSeconds)} files/s, ${generation[0]?.parts ?? 0} processes), flushed with \`sync\` before each measured run. Commands are timed from spawn to exit; the floor loops from their first read to their last unlink.`,
    ...(outputs.length ? ['Output:', outputs.join('\n')] : []),
  ].join('\n\n');
  return { markdown, results };
}

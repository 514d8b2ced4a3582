// System calls and CPU of each Redis contender's HTTP server under the HTTP level's load:
// whether the servers differ in work the kernel does for them, and whether the server is
// CPU-bound (about 1,000 ms of CPU per second: then req/s is 1 / CPU per request).
// Needs `perf` with the syscall tracepoints (root, or perf_event_paranoid allowing it).
// Usage: pnpm --filter @sessionfs/bench run http-syscalls [route] [seconds]
// Build the packages first (`pnpm turbo run build --filter=@sessionfs/bench^...`).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REDIS_CONTENDERS, runContenders, startRedis } from './http-level.mjs';
import { median, table } from './util.mjs';

const [route = 'counter', secondsText = '8'] = process.argv.slice(2);
const seconds = Number(secondsText);
const SYSCALLS = ['writev', 'write', 'read'];
const EVENTS = [...SYSCALLS.map((name) => `syscalls:sys_enter_${name}`), 'task-clock'];

try {
  execFileSync('perf', ['stat', '-e', EVENTS[0], 'true'], { stdio: 'ignore' });
} catch {
  console.error('http-syscalls needs `perf` with syscall tracepoints (run as root)');
  process.exit(2);
}

/** The pid of the contender's server, once it runs (its command line names it). */
async function serverPid(name) {
  const pattern = `http-server.mjs ${name.replace('+', '[+]')} `;
  for (let attempt = 0; attempt < 500; attempt += 1) {
    try {
      return execFileSync('pgrep', ['-f', pattern]).toString().trim().split('\n')[0];
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error(`no server process for ${name}`);
}

/**
 * One contender's server under load, counted by `perf stat` in 1-s intervals. The busiest
 * seconds are the measured ones (login and warm-up come first, and lighter).
 */
async function measure(name, redisUrl) {
  const dir = await mkdtemp(join(tmpdir(), 'sessionfs-syscalls-'));
  const lines = [];
  const running = runContenders({
    contenders: [{ name, dir, redisUrl, prefix: `syscalls:${name}:` }],
    load: { pool: 1_000, connections: 50, warmup: 2, seconds, slices: 1, routes: [route] },
  });
  const pid = await serverPid(name);
  const perf = spawn('perf', ['stat', '-I', '1000', '-x', ',', '-e', EVENTS.join(','), '-p', pid]);
  let output = '';
  perf.stderr.on('data', (chunk) => {
    output += chunk;
  });
  try {
    const runs = await running;
    const rps = runs[name].routes[route].rps;
    for (const line of output.trim().split('\n')) {
      const [time, count, , event] = line.split(',');
      lines.push({ time: Number(time), count: Number(count), event });
    }
    // The measured window: the seconds with the most CPU, as many as the load lasted.
    const cpuBySecond = lines.filter(({ event }) => event === 'task-clock');
    const busiest = [...cpuBySecond]
      .sort((a, b) => b.count - a.count)
      .slice(0, Math.max(1, seconds - 2))
      .map(({ time }) => time);
    const perSecond = (event) =>
      median(
        lines.filter((l) => l.event === event && busiest.includes(l.time)).map((l) => l.count),
      );
    return {
      rps,
      cpuMsPerSecond: perSecond('task-clock'),
      perRequest: Object.fromEntries(
        SYSCALLS.map((syscall) => [syscall, perSecond(`syscalls:sys_enter_${syscall}`) / rps]),
      ),
    };
  } finally {
    perf.kill('SIGINT');
    await rm(dir, { recursive: true, force: true });
  }
}

const redis = await startRedis();
const rows = [];
try {
  // Twice each, alternating: one run of one contender moves by ±15% on a shared machine.
  for (const name of [...REDIS_CONTENDERS, ...REDIS_CONTENDERS]) {
    const { rps, cpuMsPerSecond, perRequest } = await measure(name, redis.url);
    rows.push([
      name,
      Math.round(rps).toLocaleString('en-US'),
      Math.round(cpuMsPerSecond).toLocaleString('en-US'),
      ((cpuMsPerSecond * 1000) / rps).toFixed(0),
      ...SYSCALLS.map((syscall) => perRequest[syscall].toFixed(2)),
    ]);
  }
} finally {
  await redis.destroy();
}
console.log(
  `HTTP server of each Redis contender, /${route}, ${seconds} s of load (50 connections, 1,000 sessions); perf stat per second, median of the busiest seconds\n\n${table(
    [
      'contender',
      'req/s',
      'server CPU ms/s',
      'CPU µs/request',
      ...SYSCALLS.map((name) => `${name}/request`),
    ],
    rows,
  )}`,
);

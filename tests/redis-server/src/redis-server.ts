// Real redis-server processes for tests: a single server or a Redis Cluster, each on a
// free loopback port with persistence off, started and stopped by the test itself.
// Needs `redis-server` and `redis-cli` on the PATH (Debian's `redis-server` package).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How long a redis-server may take to answer after it was spawned. */
const STARTUP_MS = 10_000;
/** How long a killed redis-server may take to exit. */
const EXIT_MS = 5_000;

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The process id of the redis-server answering on `port` (from `INFO server`), or
 * `null` when nothing answers within half a second.
 */
export function redisPid(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (pid: number | null) => {
      socket.destroy();
      resolve(pid);
    };
    socket.setTimeout(500);
    socket.once('error', () => done(null));
    socket.once('timeout', () => done(null));
    socket.on('data', (data) => {
      reply += data.toString();
      const pid = /\r\nprocess_id:(\d+)\r\n/.exec(reply)?.[1];
      if (pid !== undefined) done(Number(pid));
      else if (reply.startsWith('-')) done(null);
    });
    socket.connect(port, '127.0.0.1', () => socket.write('INFO server\r\n'));
  });
}

/** A redis-server of our own on a loopback port, persistence off. */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  /**
   * Starts a redis-server on `port` (default: a free one) with `extraArgs` after the
   * defaults (loopback, no RDB snapshots, no AOF, a temporary working directory).
   */
  static async start(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'sessionfs-redis-'));
    const server = new RedisServer(port ?? (await freePort()), dir, extraArgs);
    try {
      await server.restart();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /**
   * Starts the server (again) on the same port, empty: with persistence off, what it
   * held before a stop is gone. Resolves once this very process answers on the port;
   * rejects within {@link STARTUP_MS} if it does not, or as soon as it exits (the port
   * is taken, say) or cannot be spawned.
   */
  async restart(): Promise<void> {
    if (this.process) throw new Error(`redis-server on port ${this.port} is already running`);
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      ...this.extraArgs,
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process = child;
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-2_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let failed: Error | undefined;
    child.once('error', (error) => {
      failed = new Error(
        `cannot run redis-server (${error.message}): install it, e.g. apt-get install redis-server`,
      );
    });
    child.once('exit', (code, signal) => {
      failed ??= new Error(
        `redis-server on port ${this.port} exited (${code ?? signal}) before it was ready:\n${output}`,
      );
    });
    const deadline = Date.now() + STARTUP_MS;
    while (!failed && Date.now() < deadline) {
      // Checking the pid, not just PING, so another server on the port cannot pass for it.
      if ((await redisPid(this.port)) === child.pid) {
        // Nobody reads its log once it is up: stop collecting it.
        child.stdout?.off('data', collect).resume();
        child.stderr?.off('data', collect).resume();
        return;
      }
      await sleep(50);
    }
    this.process = undefined;
    child.kill('SIGKILL');
    throw (
      failed ?? new Error(`redis-server on port ${this.port} did not start within ${STARTUP_MS} ms`)
    );
  }

  /** Kills the server with SIGKILL, as a crash or an outage would. Idempotent. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    const timedOut = sleep(EXIT_MS).then(() => {
      throw new Error(
        `redis-server on port ${this.port} still running ${EXIT_MS} ms after SIGKILL`,
      );
    });
    await Promise.race([exited, timedOut]);
  }

  /**
   * Freezes the server with SIGSTOP: connections stay open and nothing answers, as with a
   * Redis that hangs (swapping, a stuck disk, a debugger). `resume()` thaws it.
   */
  pause(): void {
    this.signal('SIGSTOP');
  }

  /** Thaws a server frozen by `pause()`: it answers what it was sent meanwhile. */
  resume(): void {
    this.signal('SIGCONT');
  }

  private signal(signal: NodeJS.Signals): void {
    if (!this.process || this.process.exitCode !== null) {
      throw new Error(`redis-server on port ${this.port} is not running`);
    }
    this.process.kill(signal);
  }

  /** Stops the server and removes its working directory. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A Redis Cluster of `masters` servers on loopback, no replicas. */
export async function startCluster(
  masters = 3,
): Promise<{ servers: RedisServer[]; destroy: () => Promise<void> }> {
  const started = await Promise.allSettled(
    Array.from({ length: masters }, () =>
      RedisServer.start(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']),
    ),
  );
  const servers = started.flatMap((result) =>
    result.status === 'fulfilled' ? [result.value] : [],
  );
  const destroy = async () => {
    await Promise.all(servers.map((server) => server.destroy()));
  };
  try {
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...servers.map((server) => `127.0.0.1:${server.port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    const deadline = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(
        servers.map(
          async (server) =>
            (
              await run('redis-cli', ['-p', String(server.port), 'cluster', 'info'], {
                timeout: 5_000,
              })
            ).stdout,
        ),
      );
      if (states.every((state) => state.includes('cluster_state:ok'))) break;
      if (Date.now() > deadline) throw new Error('the Redis cluster did not become ready');
      await sleep(100);
    }
  } catch (error) {
    await destroy();
    throw error;
  }
  return { servers, destroy };
}

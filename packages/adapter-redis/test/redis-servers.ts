import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something on `port` answers PING with PONG, or rejects after `ms`. */
async function waitForPong(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.setTimeout(500);
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
      socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`redis-server on port ${port} did not start within ${ms} ms`);
}

/** A redis-server of our own on a loopback port, persistence off. */
export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  static async start(extraArgs: string[] = [], port?: number): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'sessionfs-redis-'));
    const server = new RedisServer(port ?? (await freePort()), dir, extraArgs);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the server (again) on the same port. */
  async restart(): Promise<void> {
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
    this.process = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForPong(this.port);
  }

  /** Kills the server, as an outage would. */
  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A Redis Cluster of `masters` servers on loopback, no replicas. */
export async function startCluster(
  masters = 3,
): Promise<{ servers: RedisServer[]; destroy: () => Promise<void> }> {
  const servers = await Promise.all(
    Array.from({ length: masters }, () =>
      RedisServer.start(['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000']),
    ),
  );
  const destroy = async () => {
    await Promise.all(servers.map((server) => server.destroy()));
  };
  try {
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
            (await run('redis-cli', ['-p', String(server.port), 'cluster', 'info'])).stdout,
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

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { RedisServer, redisPid } from '../src/redis-server.js';

const run = promisify(execFile);
const servers: RedisServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.destroy()));
});

async function start(port?: number): Promise<RedisServer> {
  const server = await RedisServer.start([], port);
  servers.push(server);
  return server;
}

/** One redis-cli command against `server`; its reply, one line per element. */
async function cli(server: RedisServer, ...command: string[]): Promise<string[]> {
  const { stdout } = await run('redis-cli', ['-p', String(server.port), ...command], {
    timeout: 5_000,
  });
  return stdout.replace(/\n$/, '').split('\n');
}

it('starts a redis-server on loopback with persistence off', async () => {
  const server = await start();
  expect(server.url).toBe(`redis://127.0.0.1:${server.port}`);
  expect(await cli(server, 'ping')).toEqual(['PONG']);
  expect(await cli(server, 'config', 'get', 'save')).toEqual(['save', '']);
  expect(await cli(server, 'config', 'get', 'appendonly')).toEqual(['appendonly', 'no']);
  expect(await cli(server, 'config', 'get', 'bind')).toEqual(['bind', '127.0.0.1']);
});

it('stops like a crash, and restarts empty on the same port', async () => {
  const server = await start();
  expect(await cli(server, 'set', 'k', 'v')).toEqual(['OK']);
  await server.stop();
  expect(await redisPid(server.port)).toBeNull();
  await server.stop(); // idempotent
  await server.restart();
  expect(await cli(server, 'dbsize')).toEqual(['0']);
});

it('fails at once, not after the startup timeout, when the port is taken', async () => {
  const first = await start();
  const startedAt = Date.now();
  await expect(start(first.port)).rejects.toThrow(/exited .* before it was ready/s);
  expect(Date.now() - startedAt).toBeLessThan(5_000);
  // The server that held the port is unaffected.
  expect(await cli(first, 'ping')).toEqual(['PONG']);
});

// Keeps the benchmark's redis-server (from @sessionfs/test-redis-server, on a free loopback
// port, persistence off) for as long as its parent lives: forked by http-level.mjs with an
// IPC channel, it sends `{ url }`, and removes the server on the message 'stop' or as soon
// as the channel closes, even when the parent was killed with SIGKILL.
import { register } from 'node:module';

// The helper ships TypeScript source, which Node 20 cannot load by itself.
register('./ts-hooks.mjs', import.meta.url);
const { RedisServer } = await import('@sessionfs/test-redis-server');

const server = await RedisServer.start();
let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  server.destroy().finally(() => process.exit(0));
};
process.on('disconnect', stop);
process.on('message', (message) => {
  if (message === 'stop') stop();
});
process.send({ url: server.url });

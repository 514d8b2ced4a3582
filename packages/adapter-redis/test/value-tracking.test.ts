// The adapter's memory of values (option `clientSideCache`) without a server: when it
// answers from memory, a report of a change that reached the process must have been
// applied first.
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { ClientSideCache } from '../src/value-tracking.js';

/** A loopback connection: what is written to one end is read by the event loop's next poll. */
async function socketPair(): Promise<[Socket, Socket, () => void]> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const accepted = once(server, 'connection');
  const client = connect(port, '127.0.0.1');
  await once(client, 'connect');
  const [peer] = (await accepted) as [Socket];
  return [
    client,
    peer,
    () => {
      client.destroy();
      peer.destroy();
      server.close();
    },
  ];
}

it('applies a report of a change that lands just after the request came, before answering from memory', async () => {
  const cache = new ClientSideCache('p:', 100, 60_000);
  const hook = cache.hook as { invalidate(key: string | null): void };
  const [ackWriter, ackReader, closeAcks] = await socketPair();
  const [reportWriter, reportReader, closeReports] = await socketPair();
  try {
    cache.learn(cache.expect('p:session'), 10, 'v1', undefined);
    expect(await cache.recall('p:session')).toMatchObject({ version: 'v1' });

    // Another instance's write is acknowledged (here, on one connection) and the request
    // that reads the session starts from that input, as in one process driving two
    // instances; Redis's report of the write reaches this instance's connection a moment
    // later, after the poll that brought the acknowledgement.
    reportReader.on('data', () => hook.invalidate('p:session'));
    const answer = new Promise((resolve) => {
      ackReader.once('data', () => {
        resolve(cache.recall('p:session'));
        reportWriter.write('invalidate p:session');
      });
    });
    ackWriter.write('OK');
    expect(await answer).toBeUndefined();
  } finally {
    closeAcks();
    closeReports();
  }
});

import type { Send } from './client.js';

/**
 * Settles a wait: `true` once a command sent after the wait began was answered, `false`
 * when it failed (the connection, and the invalidations it carried, may be gone).
 */
type Waiter = (answered: boolean) => void;

/** The waits on one connection, and whether a `PING` is out for them. */
class Connection {
  waiters: Waiter[] = [];
  pinging = false;

  /** `redisKey` routes to this connection: a `PING` sent by it goes there. */
  constructor(readonly redisKey: string) {}
}

/**
 * Tells when every invalidation Redis sent before now has arrived. Redis answers the
 * commands of one connection in order, and pushes an invalidation on that connection
 * before it answers any command it runs after the write: once a command sent after a
 * moment has been answered, every write acknowledged to anyone before that moment has
 * been reported here.
 *
 * The commands the adapter sends anyway serve: a wait ends with the reply of the next
 * command over its connection. Only when none goes out is a `PING` sent, one at a time per
 * connection, for every wait begun since. A cache hit therefore sends no command of its
 * own: under load the hits share the replies of other requests' commands, and otherwise
 * one `PING`.
 */
export class ReplyBarrier {
  /** By connection: the client of one server, or a cluster master. */
  private readonly connections = new WeakMap<object, Connection>();
  /** Waits not yet taken by a command, over every connection. */
  private waiting = 0;

  constructor(
    private readonly sendRaw: Send,
    private readonly connectionOf: (redisKey: string) => object,
  ) {}

  /** Resolves once a command sent after this call, over `redisKey`'s connection, settled. */
  afterNextReply(redisKey: string): Promise<boolean> {
    const handle = this.connectionOf(redisKey);
    let connection = this.connections.get(handle);
    if (connection === undefined) {
      connection = new Connection(redisKey);
      this.connections.set(handle, connection);
    }
    const waitingOn = connection;
    return new Promise<boolean>((resolve) => {
      waitingOn.waiters.push(resolve);
      this.waiting += 1;
      if (!waitingOn.pinging) {
        waitingOn.pinging = true;
        // After the current task: the waits it begins, and the commands it sends, first.
        queueMicrotask(() => this.ping(waitingOn));
      }
    });
  }

  /** Sends a command, ending with its reply the waits on its connection begun before. */
  readonly send: Send = (redisKey, readonly, args) => {
    if (this.waiting === 0) return this.sendRaw(redisKey, readonly, args);
    const connection = this.connections.get(this.connectionOf(redisKey));
    if (connection === undefined || connection.waiters.length === 0) {
      return this.sendRaw(redisKey, readonly, args);
    }
    const { waiters } = connection;
    connection.waiters = [];
    this.waiting -= waiters.length;
    let reply: Promise<unknown>;
    try {
      reply = this.sendRaw(redisKey, readonly, args);
    } catch (error) {
      settle(waiters, false);
      throw error;
    }
    reply.then(
      () => settle(waiters, true),
      () => settle(waiters, false),
    );
    return reply;
  };

  private ping(connection: Connection): void {
    if (connection.waiters.length === 0) {
      connection.pinging = false;
      return;
    }
    const done = () => {
      connection.pinging = false;
      if (connection.waiters.length > 0) {
        connection.pinging = true;
        this.ping(connection);
      }
    };
    try {
      // Routed as a write, so that a cluster sends it to the master, never to a replica.
      this.send(connection.redisKey, false, ['PING']).then(done, done);
    } catch {
      // The waits it took are settled: nothing is left to ping for.
      done();
    }
  }
}

function settle(waiters: Waiter[], answered: boolean): void {
  for (const waiter of waiters) waiter(answered);
}

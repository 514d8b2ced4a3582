// Drives the example as its README does: `node server.mjs` in child processes on free
// loopback ports, and a visitor whose cookie goes to whichever instance it asks, as a
// browser's does (cookies do not depend on the port). Every wait is bounded.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('../server.mjs', import.meta.url));
const STARTUP_MS = 15_000;
const EXIT_MS = 5_000;
/** Longest a single HTTP request may take before the test gives up on it. */
export const REQUEST_MS = 10_000;

/** One running `node server.mjs`. */
export class Instance {
  /** Every instance not stopped yet, for an `afterAll` to kill whatever a failure left. */
  static readonly running = new Set<Instance>();
  /** What the process printed last, to explain a failure. */
  output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {}

  /** Starts `node server.mjs` on a free port with `env`; resolves once it listens. */
  static async start(env: Record<string, string>): Promise<Instance> {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-10_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    let failed = false;
    child.once('error', (error) => {
      failed = true;
      output += `\n${error.message}`;
    });
    const deadline = Date.now() + STARTUP_MS;
    let url: string | undefined;
    while (!url && !failed && child.exitCode === null && Date.now() < deadline) {
      url = /http:\/\/127\.0\.0\.1:\d+/.exec(output)?.[0];
      if (!url) await sleep(20);
    }
    if (!url) {
      child.kill('SIGKILL');
      throw new Error(`server.mjs did not listen within ${STARTUP_MS} ms:\n${output}`);
    }
    const instance = new Instance(child, url);
    // Keep reading what it prints (its error logs among it), so a full pipe never blocks it.
    child.stdout?.off('data', collect).on('data', (chunk: Buffer) => instance.log(chunk));
    child.stderr?.off('data', collect).on('data', (chunk: Buffer) => instance.log(chunk));
    instance.output = output;
    Instance.running.add(instance);
    return instance;
  }

  /** The process id: each answer of the app names the process that served it. */
  get pid(): number {
    return this.child.pid as number;
  }

  /** Stops it as Ctrl+C would; resolves its exit code. SIGKILL if it does not exit in time. */
  async stop(): Promise<number | null> {
    Instance.running.delete(this);
    if (this.child.exitCode !== null || this.child.signalCode !== null) return this.child.exitCode;
    const exited = once(this.child, 'exit') as Promise<[number | null]>;
    this.child.kill('SIGTERM');
    const result = await Promise.race([exited, sleep(EXIT_MS).then(() => undefined)]);
    if (result) return result[0];
    this.child.kill('SIGKILL');
    throw new Error(`server.mjs still running ${EXIT_MS} ms after SIGTERM:\n${this.output}`);
  }

  private log(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-10_000);
  }
}

/** What the app answers: the state of the session, or an error. */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
  /** Milliseconds from sending the request to reading the whole answer. */
  ms: number;
}

/** A visitor with a cookie jar of one cookie, the session's. */
export class Visitor {
  cookie: string | undefined;

  /** Sends one request to `instance`, with the session cookie if the visitor has one. */
  async request(
    instance: Instance,
    method: 'GET' | 'POST',
    path: string,
    json?: Record<string, unknown>,
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (this.cookie !== undefined) headers.cookie = `sessionId=${this.cookie}`;
    if (json !== undefined) headers['content-type'] = 'application/json';
    const started = performance.now();
    const response = await fetch(new URL(path, instance.url), {
      method,
      headers,
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(REQUEST_MS),
    });
    const body = (await response.json()) as Record<string, unknown>;
    for (const line of response.headers.getSetCookie()) {
      const value = /^sessionId=([^;]*)/.exec(line)?.[1];
      // An empty value is the server clearing the cookie.
      if (value !== undefined) this.cookie = value === '' ? undefined : value;
    }
    return { status: response.status, body, ms: Math.round(performance.now() - started) };
  }
}

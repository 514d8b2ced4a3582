// Load: the login example (examples/login/server.mjs, sessions on disk, rolling cookies)
// in its own process, under autocannon on loopback for a bounded time, over a few
// thousand logged-in sessions. Every response is right (the visitor's name, a visit
// counter that counts every request: no lost or stale session), no error, no non-2xx;
// afterwards every session on disk decodes and holds its count; the server's memory is
// reported before and after. Throughput and p99 are reported, never asserted.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import { createSessionStore } from '@sessionfs/core';
import autocannon from 'autocannon';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Child, spawnNode, waitFor } from './support/children.js';
import { SIZE, testTimeout } from './support/size.js';

const HOUR = 60 * 60 * 1_000;
const server = createRequire(import.meta.url).resolve('@sessionfs/example-login/server.mjs');
let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'sessionfs-load-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** Resident memory of process `pid`, in MB (Linux). */
async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

/** Logs `count` visitors in, a few at a time; resolves their session cookies. */
async function logIn(url: string, count: number): Promise<string[]> {
  const cookies: string[] = new Array(count);
  let next = 0;
  const visitor = async () => {
    for (let index = next++; index < count; index = next++) {
      const response = await fetch(`${url}/login`, {
        method: 'POST',
        body: new URLSearchParams({ name: `visitor-${index}` }),
        redirect: 'manual',
      });
      expect(response.status).toBe(303);
      const cookie = response.headers.getSetCookie().find((line) => line.startsWith('sessionId='));
      cookies[index] = (cookie as string).split(';')[0] as string;
    }
  };
  await Promise.all(Array.from({ length: 16 }, visitor));
  return cookies;
}

/** The session id inside a signed `sessionId=<id>.<signature>` cookie. */
function sessionIdOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice('sessionId='.length));
  return value.slice(0, value.lastIndexOf('.'));
}

it(
  `serves ${SIZE.load.connections} connections for ${SIZE.load.durationS} s over ${SIZE.load.sessions} sessions without a wrong answer`,
  async () => {
    const dir = join(root, 'sessions');
    const child: Child = spawnNode(server, [], {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      SESSIONS_DIR: dir,
      SESSION_MAX_AGE_MS: String(HOUR),
    });
    let url = '';
    child.onLine((line) => {
      url ||= /open (http:\/\/127\.0\.0\.1:\d+)/.exec(line)?.[1] ?? '';
    });
    try {
      expect(await waitFor(() => url !== '', 20_000), child.stderr()).toBe(true);
      const cookies = await logIn(url, SIZE.load.sessions);
      const pid = child.process.pid as number;
      const rssBefore = await rssMb(pid);

      // Each session is used by one connection at a time, so that its counter is exact:
      // requests take the next idle session and give it back with the response.
      const idle = cookies.map((_, index) => index);
      const visits = new Array<number>(cookies.length).fill(0);
      const wrong: string[] = [];
      let renewedCookies = 0;
      const result = await autocannon({
        url,
        connections: SIZE.load.connections,
        duration: SIZE.load.durationS,
        requests: [
          {
            method: 'GET',
            path: '/',
            setupRequest(request, context) {
              const session = idle.shift() as number;
              context.session = session;
              return { ...request, headers: { cookie: cookies[session] as string } };
            },
            onResponse(status, body, context, headers) {
              const session = context.session as number;
              visits[session] = (visits[session] ?? 0) + 1;
              const user = /id="user">([^<]*)</.exec(body)?.[1];
              const count = Number(/id="visits">(\d+)</.exec(body)?.[1]);
              if (status !== 200 || user !== `visitor-${session}` || count !== visits[session]) {
                wrong.push(`${status} ${user} visit ${count}, expected ${visits[session]}`);
              }
              if (headers['set-cookie']) renewedCookies += 1;
              idle.push(session);
            },
          },
        ],
      });
      const rssAfter = await rssMb(pid);
      const answered = visits.reduce((sum, count) => sum + count, 0);
      console.log(
        `load: ${result.requests.total} requests in ${result.duration} s over ${cookies.length} sessions, ` +
          `${Math.round(result.requests.average)} req/s, latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
          `server RSS ${rssBefore.toFixed(0)} MB before, ${rssAfter.toFixed(0)} MB after`,
      );

      expect(result.errors).toBe(0);
      expect(result.timeouts).toBe(0);
      expect(result.non2xx).toBe(0);
      expect(wrong.slice(0, 5)).toEqual([]);
      // Every session was visited; rolling: every answer renewed the cookie.
      expect(visits.filter((count) => count === 0)).toEqual([]);
      expect(renewedCookies).toBe(answered);
      // Memory stays bounded: thousands of sessions and requests add no more than this.
      expect(rssAfter - rssBefore).toBeLessThan(200);

      child.process.kill('SIGTERM');
      expect((await child.exited).code, child.stderr()).toBe(0);

      // On disk: one file per session, each decodes and holds its count (a request still
      // under way when the run stopped may have counted once more).
      const files = (await readdir(dir)).filter((name) => name.startsWith('s.'));
      const store = createSessionStore<{ user?: string; visits?: number }>({
        adapter: createNodeAdapter({ dir }),
        reapInterval: false,
      });
      expect(files).toHaveLength(cookies.length);
      expect(await store.length()).toBe(files.length);
      const inFlight = new Set(cookies.keys());
      for (const session of idle) inFlight.delete(session);
      for (const [index, cookie] of cookies.entries()) {
        const session = await store.get(sessionIdOf(cookie));
        expect(session?.user, cookie).toBe(`visitor-${index}`);
        const counted = visits[index] as number;
        expect([counted, ...(inFlight.has(index) ? [counted + 1] : [])]).toContain(session?.visits);
      }
      await store.close();
    } finally {
      child.process.kill('SIGKILL');
    }
  },
  testTimeout(SIZE.load.durationS * 1_000 + 60_000),
);

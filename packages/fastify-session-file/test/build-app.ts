import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createMemoryAdapter } from '@sessionfs/adapter-memory';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import {
  type FastifySessionFileOptions,
  type FileSessionStoreOptions,
  fastifySessionFile,
} from '../src/index.js';

declare module 'fastify' {
  interface Session {
    views?: number;
    user?: string;
  }
}

export const SECRET = 'a test secret of at least thirty-two characters';
export const COOKIE_NAME = 'sessionId';

/** Where a test's sessions live, and how it looks at the files behind the store. */
export interface Backend {
  /** Store options over fresh, empty storage. */
  readonly store: FileSessionStoreOptions;
  /** The session files (keys) present now. */
  files(): Promise<string[]>;
  /** Whether `path` (as `FileSessionStore#sessionFile` names it) exists. */
  exists(path: string): boolean;
  /** Overwrites the file at `path` behind the store's back. */
  write(path: string, data: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** Records only: dot-names are the adapter's own (its take lock, temp files). */
function withoutDotNames(names: string[]): string[] {
  return names.filter((name) => !name.startsWith('.'));
}

/** The two backends every Fastify-level behaviour runs against. */
export const backends: Record<'node' | 'memory', () => Promise<Backend>> = {
  async node() {
    const root = await mkdtemp(join(tmpdir(), 'sessionfs-fastify-'));
    const dir = join(root, 'sessions');
    return {
      store: { dir, reapInterval: false },
      files: async () => withoutDotNames(await readdir(dir).catch(() => [])),
      exists: (path) => existsSync(path),
      write: (path, data) => writeFile(path, data),
      cleanup: () => rm(root, { recursive: true, force: true }),
    };
  },
  async memory() {
    const adapter = createMemoryAdapter();
    return {
      store: { adapter, reapInterval: false },
      files: async () =>
        adapter.volume.existsSync(adapter.dir)
          ? withoutDotNames(adapter.volume.readdirSync(adapter.dir) as string[])
          : [],
      exists: (path) => adapter.volume.existsSync(path),
      write: async (path, data) => adapter.volume.writeFileSync(path, data),
      cleanup: async () => {},
    };
  },
};

/** One JSON log line that the app wrote. */
export type LogLine = Record<string, unknown> & { level: number; msg: string };

/**
 * An app with the plugin and a few routes that use the session the way apps do. Its log
 * lines are collected in `logs`.
 */
export async function buildApp(
  options: Partial<FastifySessionFileOptions> = {},
): Promise<{ app: FastifyInstance; logs: LogLine[] }> {
  const logs: LogLine[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      logs.push(JSON.parse(String(chunk)) as LogLine);
      done();
    },
  });
  const app = Fastify({ logger: { level: 'debug', stream } });
  await app.register(fastifySessionFile, {
    secret: SECRET,
    cookie: { secure: false },
    ...options,
  });

  registerRoutes(app);
  await app.ready();
  return { app, logs };
}

/** Routes that use the session the way apps do. */
export function registerRoutes(app: FastifyInstance): void {
  // Never touches the session, as load balancers, monitors and crawlers call.
  app.get('/health', async () => ({ ok: true }));
  app.get('/views', async (request) => {
    request.session.views = (request.session.views ?? 0) + 1;
    return { views: request.session.views };
  });
  app.get('/peek', async (request) => ({ views: request.session.views ?? null }));
  app.post('/login', async (request) => {
    // The usual defence against session fixation: a new id when the privilege changes.
    await request.session.regenerate(['views']);
    request.session.user = 'ada';
    return { user: request.session.user, views: request.session.views ?? null };
  });
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { ok: true };
  });
  app.post('/reload', async (request) => {
    request.session.views = 1_000; // an unsaved change that reload() discards
    await request.session.reload();
    return { views: request.session.views ?? null, user: request.session.user ?? null };
  });
}

/** A browser's cookie jar in miniature: sends the session cookie it was last given. */
export class Client {
  cookie: string | undefined;

  constructor(private readonly app: FastifyInstance) {}

  async request(method: 'GET' | 'POST', url: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method,
      url,
      ...(this.cookie === undefined ? {} : { cookies: { [COOKIE_NAME]: this.cookie } }),
    });
    const set = response.cookies.find((cookie) => cookie.name === COOKIE_NAME);
    if (set) this.cookie = set.value || undefined;
    return response;
  }

  async json<T = Record<string, unknown>>(method: 'GET' | 'POST', url: string): Promise<T> {
    const response = await this.request(method, url);
    if (response.statusCode !== 200) {
      throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    }
    return response.json<T>();
  }
}

/** The ids of the sessions the app's store holds now. */
export async function storedIds(app: FastifyInstance): Promise<string[]> {
  const ids: string[] = [];
  for await (const id of app.fileSessionStore.engine.ids()) ids.push(id);
  return ids.sort();
}

// The same app as TypeScript compiled to CommonJS: it must type-check against our
// declarations both with `moduleResolution: node16` and with the older `node10`.
import { createMemoryAdapter, type MemoryAdapter } from '@sessionfs/adapter-memory';
import { createNodeAdapter, type NodeAdapterOptions } from '@sessionfs/adapter-node';
import { ErrorCodes, type FsAdapter, hasErrorCode } from '@sessionfs/core';
import {
  type FastifySessionFileOptions,
  type FileSessionStore,
  FileStore,
  fastifySessionFile,
} from '@sessionfs/fastify-session-file';
import Fastify from 'fastify';

declare module 'fastify' {
  interface Session {
    views?: number;
  }
}

const options: NodeAdapterOptions = { dir: './sessions', fsync: true };
const adapters: FsAdapter[] = [createNodeAdapter(options)];
const memory: MemoryAdapter = createMemoryAdapter();
adapters.push(memory);

export async function readOrNull(adapter: FsAdapter, key: string): Promise<Uint8Array | null> {
  try {
    return (await adapter.read(key, { maxBytes: 1024 }))?.data ?? null;
  } catch (error) {
    if (hasErrorCode(error, ErrorCodes.TOO_LARGE)) return null;
    throw error;
  }
}

// The plugin and the store, with @fastify/session's module augmentation.
const sessionOptions: FastifySessionFileOptions = {
  secret: 'a CommonJS secret of at least 32 characters',
  cookie: { secure: 'auto', maxAge: 60_000 },
  store: { adapter: memory, reapInterval: false },
};
export const app = Fastify();
app.register(fastifySessionFile, sessionOptions);
app.get('/', async (request) => {
  request.session.views = (request.session.views ?? 0) + 1;
  return {
    views: request.session.views,
    file: app.fileSessionStore.sessionFile(request.session.sessionId),
  };
});

export const dropIn: FileSessionStore = new FileStore('./sessions');
dropIn.get('id', (error, session) => {
  if (error) console.error(error.code);
  else console.log(session?.views ?? 0);
});

import { createNodeAdapter, type NodeAdapterOptions } from '@sessionfs/adapter-node';
import {
  createSessionStore,
  ErrorCodes,
  type FsAdapter,
  type SessionStore,
  SessionStoreError,
  type SessionStoreOptions,
  type StoreLogger,
} from '@sessionfs/core';

/** The options of the store engine (`@sessionfs/core`), less the adapter. */
export type EngineOptions = Omit<SessionStoreOptions, 'adapter'>;

/**
 * Sessions as files in a directory, through `@sessionfs/adapter-node`. The directory is
 * created (mode `dirMode`, default `0o700`) on the first write; files are `0o600`.
 */
export interface DirectoryStoreOptions
  extends EngineOptions,
    Pick<NodeAdapterOptions, 'fsync' | 'fileMode' | 'dirMode' | 'access' | 'layout'> {
  /** The session directory, relative to the working directory or absolute. */
  dir: string;
  adapter?: never;
}

/** Sessions through any `FsAdapter`: `@sessionfs/adapter-memory` in tests, your own backend. */
export interface AdapterStoreOptions extends EngineOptions {
  /** The adapter to store through. The store closes it on `close()`. */
  adapter: FsAdapter;
  dir?: never;
  /** Options of the node adapter go to the adapter you create, not here. */
  fsync?: never;
  fileMode?: never;
  dirMode?: never;
  access?: never;
}

/** Options of a framework's store: a directory, or an adapter, plus the engine's options. */
export type FileSessionStoreOptions = DirectoryStoreOptions | AdapterStoreOptions;

/** Without a logger, warnings and errors still reach stderr. */
const stderrLogger: StoreLogger = {
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};

/** The engine a binding runs on, with what it was opened from. */
export interface OpenedEngine<S> {
  readonly engine: SessionStore<S>;
  /** The session directory (absolute), or `undefined` for an adapter with none. */
  readonly dir: string | undefined;
  /** The file that holds a key, for an adapter over a directory. */
  readonly fileOf: ((key: string) => string) | undefined;
  readonly logger: StoreLogger;
}

/**
 * Creates the engine from a binding's options (`'./sessions'` is `{ dir: './sessions' }`).
 * Throws `ERR_INVALID_OPTION`, naming `binding`, unless exactly one of `dir` and `adapter`
 * is given.
 */
export function openEngine<S>(
  binding: string,
  options: FileSessionStoreOptions | string,
): OpenedEngine<S> {
  const resolved: FileSessionStoreOptions =
    typeof options === 'string' ? { dir: options } : options;
  if ((resolved?.adapter === undefined) === (resolved?.dir === undefined)) {
    throw new SessionStoreError(
      ErrorCodes.INVALID_OPTION,
      `${binding}: pass exactly one of \`dir\` (a directory) and \`adapter\``,
    );
  }
  const logger = resolved.logger ?? stderrLogger;
  const adapter = openAdapter(resolved, logger);
  const engine = createSessionStore<S>({ ...engineOptionsOf(resolved), adapter });
  const { dir, fileOf } = adapter as { dir?: unknown; fileOf?: unknown };
  return {
    engine,
    dir: typeof dir === 'string' ? dir : undefined,
    fileOf: typeof fileOf === 'function' ? (key) => fileOf.call(adapter, key) : undefined,
    logger,
  };
}

function openAdapter(options: FileSessionStoreOptions, logger: StoreLogger): FsAdapter {
  if (options.adapter !== undefined) return options.adapter;
  const { dir, fsync, fileMode, dirMode, access, layout } = options as DirectoryStoreOptions;
  return createNodeAdapter({
    dir,
    warn: (message) => logger.warn({}, message),
    ...(fsync === undefined ? {} : { fsync }),
    ...(fileMode === undefined ? {} : { fileMode }),
    ...(dirMode === undefined ? {} : { dirMode }),
    ...(access === undefined ? {} : { access }),
    ...(layout === undefined ? {} : { layout }),
  });
}

/** The options that belong to the engine, without those that chose the adapter. */
function engineOptionsOf(options: FileSessionStoreOptions): EngineOptions {
  const { adapter, dir, fsync, fileMode, dirMode, access, layout, ...engine } =
    options as EngineOptions & Partial<NodeAdapterOptions> & { adapter?: FsAdapter };
  return engine;
}

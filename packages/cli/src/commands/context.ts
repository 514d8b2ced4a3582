import type { SessionStore, StoreLogger } from '@sessionfs/core';
import { type BackendOptions, openStore } from '../backend.js';
import type { Io } from '../io.js';
import type { OwnerLookup } from '../owners.js';
import { type Progress, startProgress } from '../progress.js';

/** What every command gets: its options, where to write, and the store once opened. */
export interface CommandContext<O> {
  readonly options: O & CommonOptions;
  readonly io: Io;
  readonly now: number;
}

/** The options of every command that opens a store. */
export interface CommonOptions extends BackendOptions {
  quiet?: boolean;
}

/** The store's warnings, one line each on stderr; nothing of the sessions themselves. */
export function cliLogger(io: Io): StoreLogger {
  const line = (level: string) => (fields: object, message: string) => {
    const { err: _err, ...rest } = fields as { err?: unknown };
    const details = Object.keys(rest).length === 0 ? '' : ` ${JSON.stringify(rest)}`;
    io.stderr.write(
      `sessionfs: ${level}: ${message.replace(/^@sessionfs\/core: /, '')}${details}\n`,
    );
  };
  return { warn: line('warning'), error: line('error') };
}

/** Runs `body` over the store the options name, and closes it whatever happens. */
export async function withStore<O extends CommonOptions, R>(
  context: CommandContext<O>,
  body: (store: SessionStore) => Promise<R>,
  {
    mustExist = true,
    bulk = false,
    owner,
  }: { mustExist?: boolean; bulk?: boolean; owner?: OwnerLookup } = {},
): Promise<R> {
  const store = await openStore(context.options, {
    mustExist,
    bulk,
    ...(owner ? { owner } : {}),
    logger: cliLogger(context.io),
    env: context.io.env,
  });
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

/** Progress on stderr, unless `--quiet`. */
export function progressOf<O extends CommonOptions>(
  context: CommandContext<O>,
  label: string,
  unit: string,
  total: number | undefined,
): Progress {
  if (context.options.quiet) return { update() {}, stop() {} };
  return startProgress(context.io, label, unit, total);
}

/** What a store's long runs (`reap`, `rekey`) take to report progress and to stop. */
export interface RunControl {
  signal: AbortSignal;
  onProgress: (progress: { scanned: number }) => void;
}

/**
 * Runs one of the store's long runs over every record, in bulk (see `OpenOptions.bulk`),
 * with its progress on stderr and Ctrl+C stopping it.
 */
export function bulkRun<O extends CommonOptions, R>(
  context: CommandContext<O>,
  label: string,
  run: (store: SessionStore, control: RunControl) => Promise<R>,
): Promise<R> {
  return withStore(
    context,
    async (store) => {
      const progress = progressOf(context, label, 'sessions', await store.count());
      try {
        return await run(store, {
          signal: context.io.signal,
          onProgress: ({ scanned }) => progress.update(scanned),
        });
      } finally {
        progress.stop();
      }
    },
    { bulk: true },
  );
}

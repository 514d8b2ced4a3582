import { stat } from 'node:fs/promises';
import { createNodeAdapter } from '@sessionfs/adapter-node';
import {
  createSessionStore,
  type EncryptionKey,
  type EncryptionOptions,
  type SessionData,
  type SessionStore,
  type StoreLogger,
} from '@sessionfs/core';
import type { FsAdapter } from '@sessionfs/core/adapter';
import { CliError, usageError } from './errors.js';
import { keepingOwnerEntries, type OwnerLookup } from './owners.js';

/** The options every command that opens a store takes. */
export interface BackendOptions {
  dir?: string;
  redis?: string;
  prefix?: string;
  access?: 'owner' | 'group';
  encryptionKey?: string[];
  acceptPlaintext?: boolean;
}

/** The environment variable with the encryption keys, comma-separated, current first. */
export const KEYS_VARIABLE = 'SESSIONFS_ENCRYPTION_KEYS';

/** How a store is opened for a command. */
export interface OpenOptions {
  /** The directory must exist already (every command but `import`, which may create it). */
  mustExist: boolean;
  logger: StoreLogger;
  env: NodeJS.ProcessEnv;
  /**
   * A run over every record that removes or rewrites files (prune, clear, rekey): many
   * at once through libuv's threads, which overlaps the disk's waits. An app's store makes
   * these calls on its event loop, a few at a time, to keep serving requests; a command has
   * nothing else to do. `pnpm bench --only=cli` measures the difference.
   */
  bulk?: boolean;
  /**
   * Where sessions name their owner, for a command about one owner's sessions: the store
   * gets it as its `owner` option, over the backend's owner index (`ERR_NO_OWNER_INDEX`
   * where it keeps none).
   */
  owner?: OwnerLookup;
}

/** How many file operations a bulk run keeps under way at once. */
const BULK_CONCURRENCY = 16;

/** Opens the store the options name: a directory (node adapter) or Redis. */
export async function openStore(options: BackendOptions, open: OpenOptions): Promise<SessionStore> {
  const encryption = encryptionOf(options, open.env);
  const opened = await adapterOf(options, open.mustExist, open.bulk === true);
  let adapter = opened;
  if (open.owner) {
    try {
      adapter = keepingOwnerEntries(opened);
    } catch (error) {
      await opened.close?.();
      throw error;
    }
  }
  return createSessionStore<SessionData>({
    adapter,
    // The command decides what to remove, and when: no reaper of its own.
    reapInterval: false,
    logger: open.logger,
    ...(open.bulk ? { concurrency: BULK_CONCURRENCY } : {}),
    ...(encryption ? { encryption } : {}),
    ...(open.owner ? { owner: open.owner.ownerOf } : {}),
  });
}

async function adapterOf(
  options: BackendOptions,
  mustExist: boolean,
  bulk: boolean,
): Promise<FsAdapter> {
  if (options.dir !== undefined && options.redis !== undefined) {
    throw usageError('give --dir or --redis, not both');
  }
  if (options.dir !== undefined) {
    if (mustExist) await assertDirectory(options.dir);
    return createNodeAdapter({
      dir: options.dir,
      access: options.access ?? 'owner',
      // Every call through the thread pool, so that many run at once (see `bulk`).
      ...(bulk ? { sync: 'none' as const } : {}),
    });
  }
  if (options.redis !== undefined) {
    if (!/^rediss?:\/\//.test(options.redis)) {
      throw usageError(`"${options.redis}" is not a Redis URL`, 'write it as redis://host:6379');
    }
    // Loaded only for Redis: the client weighs about 30 MB, which a directory never needs.
    const { createRedisAdapter } = await import('@sessionfs/adapter-redis');
    return createRedisAdapter({
      url: options.redis,
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    });
  }
  throw usageError(
    'no store named',
    'give --dir <path> for a directory or --redis <url> for Redis',
  );
}

async function assertDirectory(dir: string): Promise<void> {
  const stats = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      'ERR_NO_DIRECTORY',
      `cannot open the directory ${dir} (${error.code ?? error.message})`,
      'check the path given to --dir',
    );
  });
  if (!stats.isDirectory()) {
    throw new CliError('ERR_NO_DIRECTORY', `${dir} is not a directory`, 'give --dir a directory');
  }
}

/**
 * The encryption keys from `--encryption-key` (repeated, current first) or else the
 * environment variable, where a key on the command line would be seen by `ps`. A key is
 * written as the store takes it (32 bytes in hex, base64 or base64url), or `passphrase:...`.
 */
export function encryptionOf(
  options: BackendOptions,
  env: NodeJS.ProcessEnv,
): EncryptionOptions | undefined {
  const written =
    options.encryptionKey && options.encryptionKey.length > 0
      ? options.encryptionKey
      : (env[KEYS_VARIABLE] ?? '')
          .split(',')
          .map((key) => key.trim())
          .filter((key) => key !== '');
  if (written.length === 0) {
    if (options.acceptPlaintext) {
      throw usageError(
        '--accept-plaintext needs encryption keys',
        `give --encryption-key or ${KEYS_VARIABLE}`,
      );
    }
    return undefined;
  }
  const keys: EncryptionKey[] = written.map((key) =>
    key.startsWith('passphrase:') ? { passphrase: key.slice('passphrase:'.length) } : key,
  );
  return { keys, ...(options.acceptPlaintext ? { acceptPlaintext: true } : {}) };
}

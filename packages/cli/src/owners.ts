import {
  type InspectedRecord,
  ownerKey,
  type SessionData,
  type SessionStore,
} from '@sessionfs/core';
import type { FsAdapter, OwnerIndex } from '@sessionfs/core/adapter';
import { CliError, usageError } from './errors.js';

/** The environment variable that says where a session names its owner, as `--owner-path`. */
export const OWNER_PATH_VARIABLE = 'SESSIONFS_OWNER_PATH';

/**
 * Where a session names its owner when neither `--owner-path` nor the variable says:
 * the store's own example of its `owner` option, `(s) => s.user?.id`.
 */
export const DEFAULT_OWNER_PATH = 'user.id';

/** The options that say whose sessions a command is about. */
export interface OwnerOptions {
  owner?: string;
  ownerPath?: string;
}

/** How the command line finds the owner in a session: the app's `owner` function, rebuilt. */
export interface OwnerLookup {
  /** The dotted path, as given (for messages). */
  readonly path: string;
  /** The owner at the path, named as the store names owners; `undefined` for none. */
  ownerOf(session: unknown): string | undefined;
}

/**
 * The owner lookup from `--owner-path`, else the environment variable, else the default.
 * A path is property names joined by dots (`user.id`, `passport.user`).
 */
export function ownerLookupOf(options: OwnerOptions, env: NodeJS.ProcessEnv): OwnerLookup {
  // An empty variable is one left unset, as a shell's `VAR= command` leaves it.
  const path = options.ownerPath ?? (env[OWNER_PATH_VARIABLE] || DEFAULT_OWNER_PATH);
  const names = path.split('.');
  if (names.some((name) => name === '')) {
    throw usageError(
      `"${path}" is not a path into a session`,
      'write it as property names joined by dots, e.g. user.id',
    );
  }
  return {
    path,
    ownerOf(session) {
      let value: unknown = session;
      for (const name of names) {
        // Own properties only: `constructor` or `__proto__` must not find something.
        if (typeof value !== 'object' || value === null || !Object.hasOwn(value, name)) {
          return undefined;
        }
        value = (value as Record<string, unknown>)[name];
      }
      return ownerName(value);
    },
  };
}

/**
 * `value` as the store names an owner (a number as its decimal string), or `undefined`
 * where the store would see no owner: the app's `owner` function returns only these.
 */
function ownerName(value: unknown): string | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  return undefined;
}

/** The owner a command is asked about: a non-empty `--owner`. */
export function ownerAskedFor(options: OwnerOptions): string | undefined {
  if (options.owner === undefined) {
    if (options.ownerPath !== undefined) {
      throw usageError('--owner-path needs --owner', 'give the owner, e.g. --owner alice');
    }
    return undefined;
  }
  if (options.owner === '') throw usageError('--owner is empty', 'give an owner id');
  return options.owner;
}

/** The adapter's owner index, or the one-line error of a backend that keeps none. */
export function ownerIndexOf(adapter: FsAdapter): OwnerIndex {
  if (adapter.owners) return adapter.owners;
  throw new CliError(
    'ERR_NO_OWNER_INDEX',
    'this backend keeps no index of sessions by owner, so --owner cannot find them',
    'list the sessions with sessionfs ls, and remove them by id with sessionfs rm <id...>',
  );
}

/**
 * `adapter` with an owner index that keeps the entry of every session that exists. The
 * store drops an entry whose session it finds to be someone else's; the command line
 * judges that with the path it was told, which may not be the app's, or without the
 * encryption keys: it would take a user's sessions out of the index, and so out of the
 * app's "log out everywhere". An app's store drops such stale entries itself. Entries of
 * sessions gone still go, by the store's own order: removed, then the record looked at
 * again, and the entry put back if it was saved meanwhile.
 */
export function keepingOwnerEntries(adapter: FsAdapter): FsAdapter {
  const index = ownerIndexOf(adapter);
  const present = (key: string) => (adapter.stat ? adapter.stat(key) : adapter.read(key));
  const keeping: OwnerIndex = {
    expiring: index.expiring,
    add: (owner, key, expiresAt) => index.add(owner, key, expiresAt),
    keys: (owner) => index.keys(owner),
    owners: () => index.owners(),
    async remove(owner, key) {
      if ((await present(key)) !== null) return;
      await index.remove(owner, key);
      const saved = await present(key);
      if (saved !== null) await index.add(owner, key, saved.expiresAt);
    },
  };
  return new Proxy(adapter, {
    get(target, property) {
      if (property === 'owners') return keeping;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** What the index holds under an owner, besides the sessions found to be theirs. */
export interface OwnerEntries {
  /** Entries looked at. */
  indexed: number;
  /** Entries whose session names another owner (or none) at the path. */
  others: number;
  /** Entries whose record is sealed with a key not given, so whose owner is unknown. */
  unreadable: number;
}

/**
 * The records of `owner`'s sessions, live or expired, through the owner index: only the
 * entries under that owner are read, each confirmed against its record. Changes nothing,
 * as `store.inspect`; `entries` counts what was passed over.
 */
export async function* ownedRecords(
  store: SessionStore,
  lookup: OwnerLookup,
  owner: string,
  entries: OwnerEntries,
  signal: AbortSignal,
): AsyncIterable<InspectedRecord<SessionData>> {
  for await (const key of ownerIndexOf(store.adapter).keys(ownerKey(owner))) {
    if (signal.aborted) return;
    entries.indexed += 1;
    const record = await store.inspectKey(key, { sessions: true });
    if (record === null) continue;
    if (record.session === undefined) {
      // Corrupt, or sealed with a key not given: whose it is cannot be told.
      if (record.state === 'unreadable') entries.unreadable += 1;
      continue;
    }
    if (lookup.ownerOf(record.session) !== owner) {
      entries.others += 1;
      continue;
    }
    yield record;
  }
}

/**
 * Why a command found no session of `owner`, when the index suggests a reason: one line
 * for stderr, or `undefined`.
 */
export async function whyNoneFound(
  store: SessionStore,
  lookup: OwnerLookup,
  owner: string,
  entries: OwnerEntries,
): Promise<string | undefined> {
  if (entries.others > 0) {
    return `sessionfs: note: ${plural(entries.others, 'session')} indexed under ${owner} ${entries.others === 1 ? 'does' : 'do'} not name ${owner} at ${lookup.path}; if the app names owners elsewhere, give --owner-path (or ${OWNER_PATH_VARIABLE})`;
  }
  if (entries.indexed === 0) {
    for await (const _ of ownerIndexOf(store.adapter).owners()) return undefined;
    return "sessionfs: note: the owner index is empty: it holds the sessions saved while the app sets the store's `owner` option";
  }
  return undefined;
}

/** A line for stderr about entries whose owner could not be read, or `undefined`. */
export function unreadableNote(owner: string, entries: OwnerEntries): string | undefined {
  if (entries.unreadable === 0) return undefined;
  return `sessionfs: note: ${plural(entries.unreadable, 'session')} indexed under ${owner} left out: sealed with a key not given (--encryption-key)`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

import type { FsAdapter, StoredValue } from './adapter.js';
import { ErrorCodes, errorName, hasErrorCode, storeFailure } from './errors.js';
import { mapConcurrently } from './map-concurrently.js';
import { untilAborted } from './progress.js';
import { parseRecord } from './record.js';
import type { SessionEncoding } from './session-encoding.js';
import {
  CORRUPT_PREFIX,
  isDigestKey,
  SESSION_PREFIX,
  sessionIdOf,
  sessionKey,
} from './session-id.js';
import type { SessionRecords } from './session-records.js';
import type { StoredExpiry } from './stored-expiry.js';

/**
 * What a stored record is, as `get` would judge it now: `live`, `expired` (not yet
 * reaped), `corrupt` (`get` would set it aside) or `unreadable` (sealed with a key the
 * store does not have, or plaintext where sealing is required: `get` leaves it alone).
 */
export type RecordState = 'live' | 'expired' | 'corrupt' | 'unreadable';

/** One stored record, looked at without changing anything. */
export interface InspectedRecord<S> {
  /** The adapter key (the file name, for the node adapter). */
  readonly key: string;
  /** The session id; `null` for the record of a long id that cannot be read. */
  readonly id: string | null;
  /** Bytes stored. */
  readonly size: number;
  /** When the session expires (epoch ms); `null` when the record is corrupt. */
  readonly expiresAt: number | null;
  readonly state: RecordState;
  /** Why a record is corrupt or unreadable. */
  readonly reason?: string;
  /** The session, with `sessions: true`, for a record that decodes (live or expired). */
  readonly session?: S;
}

/** Options of `store.inspect()` and `store.inspectKey()`. */
export interface InspectOptions {
  /**
   * Read, authenticate and decode every record, to report the session and find corrupt
   * ones. Without it, a record is only read where its expiry or id is not known otherwise.
   */
  sessions?: boolean;
  /** Stops the listing: records under way finish. */
  signal?: AbortSignal;
}

/** What inspection reads with. */
export interface InspectionContext {
  readonly adapter: FsAdapter;
  readonly records: SessionRecords;
  readonly expiry: StoredExpiry;
  readonly encoding: SessionEncoding;
  readonly concurrency: number;
  readonly now: () => number;
}

/**
 * Every session record, expired or corrupt ones too, streamed a few at a time. Nothing is
 * written, moved or removed: an operator's look must not change what it looks at.
 */
export async function* inspectAll<S>(
  context: InspectionContext,
  options: InspectOptions = {},
): AsyncIterable<InspectedRecord<S>> {
  const keys = untilAborted(context.records.keys(), options.signal);
  const inspected = mapConcurrently(keys, context.concurrency, (key) =>
    inspectKey<S>(context, key, options),
  );
  for await (const record of inspected) if (record !== null) yield record;
}

/**
 * The record under `key` (a session key, or the key of a record set aside), or `null` when
 * there is none. Read-only, as {@link inspectAll}.
 */
export async function inspectKey<S>(
  context: InspectionContext,
  key: string,
  options: InspectOptions = {},
): Promise<InspectedRecord<S> | null> {
  const { adapter, expiry, now } = context;
  const sessionKeyOf = key.startsWith(CORRUPT_PREFIX) ? originalKey(key) : key;
  const spelledId = sessionIdOf(sessionKeyOf);
  // The expiry the adapter keeps, and the size, without reading the record.
  if (!options.sessions && spelledId !== null && expiry.keepsOwn && adapter.stat) {
    let stat: Awaited<ReturnType<NonNullable<FsAdapter['stat']>>>;
    try {
      stat = await adapter.stat(key);
    } catch (error) {
      if (hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)) return null;
      throw storeFailure(error, 'read');
    }
    if (stat === null) return null;
    if (stat.expiresAt !== undefined) {
      return {
        key,
        id: spelledId,
        size: stat.size,
        expiresAt: stat.expiresAt,
        state: stateAt(stat.expiresAt, now()),
      };
    }
  }
  let value: StoredValue | null;
  try {
    value = await adapter.read(key, { maxBytes: context.records.maxRecordBytes });
  } catch (error) {
    if (hasErrorCode(error, ErrorCodes.FOREIGN_ENTRY)) return null;
    if (hasErrorCode(error, ErrorCodes.TOO_LARGE)) {
      const size = (await adapter.stat?.(key))?.size ?? Number.NaN;
      return corrupt(key, spelledId, size, 'record larger than maxRecordBytes');
    }
    throw storeFailure(error, 'read');
  }
  if (value === null) return null;
  return describe<S>(context, key, sessionKeyOf, spelledId, value, options);
}

async function describe<S>(
  context: InspectionContext,
  key: string,
  sessionKeyOf: string,
  spelledId: string | null,
  value: StoredValue,
  options: InspectOptions,
): Promise<InspectedRecord<S>> {
  const { encoding, expiry, now } = context;
  const size = value.size;
  const record = parseRecord(value.data);
  if ('corrupt' in record) return corrupt(key, spelledId, size, record.corrupt);
  const id = spelledId ?? record.id ?? null;
  // The key of a long id is a digest of it: its record must name an id with that key.
  const namesAnother =
    spelledId !== null
      ? record.id !== undefined && record.id !== spelledId
      : record.id === undefined || !isDigestKey(sessionKeyOf) || keyOf(record.id) !== sessionKeyOf;
  if (namesAnother) return corrupt(key, id, size, 'record holds another session id');
  const expiresAt = expiry.of(value, record.expiresAt);
  const state = stateAt(expiresAt, now());
  if (!options.sessions) return { key, id, size, expiresAt, state };
  const opened = await encoding.open(record.payload, sessionKeyOf, record.cookieExpires);
  if ('unreadable' in opened) {
    if (opened.unreadable === 'not authentic') {
      return corrupt(key, id, size, 'record fails authentication');
    }
    return {
      key,
      id,
      size,
      expiresAt,
      state: 'unreadable',
      reason: unreadableReason(opened.unreadable),
    };
  }
  try {
    const session = encoding.decode(opened.plaintext, expiresAt, record.cookieExpires) as S;
    return { key, id, size, expiresAt, state, session };
  } catch (error) {
    return corrupt(key, id, size, `codec cannot decode the record (${errorName(error)})`);
  }
}

function stateAt(expiresAt: number, now: number): RecordState {
  return expiresAt > now ? 'live' : 'expired';
}

function corrupt<S>(
  key: string,
  id: string | null,
  size: number,
  reason: string,
): InspectedRecord<S> {
  return { key, id, size, expiresAt: null, state: 'corrupt', reason };
}

function unreadableReason(why: string): string {
  if (why === 'plaintext') return 'plaintext record, and the store requires encryption';
  return 'sealed with a key the store was not given';
}

/** The session key a record set aside came from (see `corruptKey`), possibly cut short. */
function originalKey(asideKey: string): string {
  const rest = asideKey.slice(CORRUPT_PREFIX.length);
  const secondDot = rest.indexOf('.', rest.indexOf('.') + 1);
  return SESSION_PREFIX + rest.slice(secondDot + 1);
}

/** The key of `id`, or `null` for an id no key can hold. */
function keyOf(id: string): string | null {
  try {
    return sessionKey(id);
  } catch {
    return null;
  }
}

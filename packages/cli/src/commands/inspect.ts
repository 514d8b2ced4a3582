import { basename, dirname } from 'node:path';
import { type InspectedRecord, type SessionData, sessionKey } from '@sessionfs/core';
import { isValidKey } from '@sessionfs/core/adapter';
import { CliError, usageError } from '../errors.js';
import { writeOut } from '../io.js';
import {
  type OwnerEntries,
  type OwnerOptions,
  ownedRecords,
  ownerAskedFor,
  ownerLookupOf,
  unreadableNote,
  whyNoneFound,
} from '../owners.js';
import { bytes, count, expiry, isoTime, parseDuration, parseSize, span } from '../units.js';
import { type CommandContext, type CommonOptions, progressOf, withStore } from './context.js';

/** The time buckets of the expiry histogram, as ends from now (the last one open). */
const HISTOGRAM_ENDS: readonly [string, number][] = [
  ['within 15m', 15 * 60_000],
  ['15m to 1h', 3_600_000],
  ['1h to 6h', 6 * 3_600_000],
  ['6h to 24h', 24 * 3_600_000],
  ['1d to 7d', 7 * 86_400_000],
  ['7d to 30d', 30 * 86_400_000],
  ['after 30d', Number.POSITIVE_INFINITY],
];
const HISTOGRAM_WIDTH = 30;

export interface StatsOptions extends CommonOptions {
  json?: boolean;
}

export interface StoreStats {
  live: number;
  expired: number;
  bytes: number;
  interruptedWrites: number | null;
  setAside: number;
  soonestExpiry: number | null;
  latestExpiry: number | null;
  /** Live sessions by when they expire, from now. */
  expiring: { within: string; sessions: number }[];
}

/** `stats`: what the store holds, in one pass over the listing, reading no session. */
export async function stats(context: CommandContext<StatsOptions>): Promise<void> {
  const { io, now } = context;
  const result = await withStore(context, async (store) => {
    const total = await store.count();
    const progress = progressOf(context, 'stats', 'sessions', total);
    const figures: StoreStats = {
      live: 0,
      expired: 0,
      bytes: 0,
      interruptedWrites: null,
      setAside: 0,
      soonestExpiry: null,
      latestExpiry: null,
      expiring: HISTOGRAM_ENDS.map(([within]) => ({ within, sessions: 0 })),
    };
    let seen = 0;
    try {
      for await (const record of store.inspect({ signal: io.signal })) {
        seen += 1;
        figures.bytes += record.size;
        if (record.state === 'live' && record.expiresAt !== null) {
          figures.live += 1;
          tally(figures, record.expiresAt, now);
        } else if (record.state === 'expired') {
          figures.expired += 1;
        }
        if ((seen & 63) === 0) progress.update(seen);
      }
    } finally {
      progress.update(seen);
      progress.stop();
    }
    const leftovers = await store.leftovers();
    figures.interruptedWrites = leftovers.interruptedWrites;
    figures.setAside = leftovers.setAside;
    return figures;
  });
  if (io.signal.aborted) return;
  await writeOut(
    io.stdout,
    context.options.json ? `${JSON.stringify(result)}\n` : describeStats(result, now),
  );
}

function tally(figures: StoreStats, expiresAt: number, now: number): void {
  if (figures.soonestExpiry === null || expiresAt < figures.soonestExpiry) {
    figures.soonestExpiry = expiresAt;
  }
  if (figures.latestExpiry === null || expiresAt > figures.latestExpiry) {
    figures.latestExpiry = expiresAt;
  }
  const bucket = HISTOGRAM_ENDS.findIndex(([, end]) => expiresAt - now <= end);
  const entry = figures.expiring[bucket];
  if (entry) entry.sessions += 1;
}

function describeStats(figures: StoreStats, now: number): string {
  const lines = [
    `sessions      ${count(figures.live)} live, ${count(figures.expired)} expired (not yet pruned)`,
    `size          ${bytes(figures.bytes)}`,
    `leftovers     ${figures.interruptedWrites === null ? 'none kept by this backend' : `${count(figures.interruptedWrites)} of interrupted writes`}, ${count(figures.setAside)} records set aside`,
    `soonest       ${figures.soonestExpiry === null ? '-' : expiry(figures.soonestExpiry, now)}`,
    `latest        ${figures.latestExpiry === null ? '-' : expiry(figures.latestExpiry, now)}`,
  ];
  if (figures.live > 0) {
    const most = Math.max(...figures.expiring.map(({ sessions }) => sessions));
    lines.push('expiring');
    for (const { within, sessions } of figures.expiring) {
      const bar = '#'.repeat(Math.ceil((sessions / most) * HISTOGRAM_WIDTH));
      lines.push(`  ${within.padEnd(11)} ${bar.padEnd(HISTOGRAM_WIDTH)} ${count(sessions)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export interface ListOptions extends CommonOptions, OwnerOptions {
  json?: boolean;
  expired?: boolean;
  expiringWithin?: string;
  largerThan?: string;
}

/**
 * `ls`: one line per session, streamed as the listing goes; filters; NDJSON with `--json`.
 * With `--owner`, only that owner's entries of the owner index are read, not every record.
 */
export async function list(context: CommandContext<ListOptions>): Promise<void> {
  const { io, now, options } = context;
  const within =
    options.expiringWithin === undefined ? undefined : parseDuration(options.expiringWithin);
  const largerThan = options.largerThan === undefined ? undefined : parseSize(options.largerThan);
  if (options.expired && within !== undefined) {
    throw usageError('--expired and --expiring-within exclude each other', 'give one of them');
  }
  const owner = ownerAskedFor(options);
  const lookup = owner === undefined ? undefined : ownerLookupOf(options, io.env);
  const listed = (record: InspectedRecord<SessionData>) =>
    (options.expired ? record.state === 'expired' : record.state === 'live') &&
    (within === undefined || (record.expiresAt ?? Number.POSITIVE_INFINITY) <= now + within) &&
    (largerThan === undefined || record.size > largerThan);
  const print = (record: InspectedRecord<SessionData>) =>
    writeOut(io.stdout, options.json ? `${listedJson(record)}\n` : listedLine(record, now));

  if (owner === undefined || lookup === undefined) {
    await withStore(context, async (store) => {
      for await (const record of store.inspect({ signal: io.signal })) {
        if (listed(record)) await print(record);
      }
    });
    return;
  }
  const entries: OwnerEntries = { indexed: 0, others: 0, unreadable: 0 };
  const notes = await withStore(
    context,
    async (store) => {
      let owned = 0;
      for await (const record of ownedRecords(store, lookup, owner, entries, io.signal)) {
        owned += 1;
        if (listed(record)) await print(record);
      }
      return [
        unreadableNote(owner, entries),
        owned === 0 ? await whyNoneFound(store, lookup, owner, entries) : undefined,
      ];
    },
    { owner: lookup },
  );
  for (const note of notes) if (note !== undefined) io.stderr.write(`${note}\n`);
}

function listedJson(record: InspectedRecord<SessionData>): string {
  return JSON.stringify({
    id: record.id,
    key: record.key,
    expiresAt: record.expiresAt === null ? null : isoTime(record.expiresAt),
    size: record.size,
    state: record.state,
  });
}

function listedLine(record: InspectedRecord<SessionData>, now: number): string {
  const when = record.expiresAt === null ? '-' : isoTime(record.expiresAt);
  const relative =
    record.expiresAt === null
      ? ''
      : record.expiresAt > now
        ? `in ${span(record.expiresAt - now)}`
        : `${span(now - record.expiresAt)} ago`;
  const id = record.id ?? `(unreadable long id, key ${record.key})`;
  return `${when.padEnd(24)}  ${relative.padEnd(11)}  ${bytes(record.size).padStart(8)}  ${id}\n`;
}

export interface ShowOptions extends CommonOptions {
  json?: boolean;
  file?: string;
}

/** `show <id>` or `show --file <path>`: one session, decoded, changing nothing. */
export async function show(
  context: CommandContext<ShowOptions>,
  id: string | undefined,
): Promise<void> {
  const { io, now, options } = context;
  let key: string;
  let storeContext = context;
  if (options.file !== undefined) {
    if (id !== undefined) throw usageError('give an id or --file, not both');
    key = basename(options.file);
    if (!isValidKey(key)) {
      throw new CliError(
        'ERR_NOT_A_RECORD',
        `${options.file} is not named as a session record`,
        'give a file of a sessionfs directory',
      );
    }
    // A file of a directory: that directory's store, whatever else was named.
    const { redis: _redis, ...local } = options;
    storeContext = { ...context, options: { ...local, dir: dirname(options.file) } };
  } else {
    if (id === undefined)
      throw usageError('show needs a session id', 'sessionfs show <id> --dir <path>');
    key = sessionKey(id);
  }
  const record = await withStore(storeContext, (store) =>
    store.inspectKey(key, { sessions: true }),
  );
  if (record === null) {
    throw new CliError(
      'ERR_NOT_FOUND',
      `no session ${options.file ?? JSON.stringify(id)} in this store`,
      'list the sessions with: sessionfs ls',
    );
  }
  if (options.json) {
    if (record.session === undefined) throw unreadable(record);
    await writeOut(io.stdout, `${JSON.stringify(record.session)}\n`);
    return;
  }
  const lines = [
    `id       ${record.id ?? '(unknown)'}`,
    `state    ${record.state}${record.reason ? ` (${record.reason})` : ''}`,
    `expires  ${record.expiresAt === null ? '-' : expiry(record.expiresAt, now)}`,
    `size     ${bytes(record.size)}`,
  ];
  await writeOut(io.stdout, `${lines.join('\n')}\n`);
  if (record.session === undefined) throw unreadable(record);
  await writeOut(io.stdout, `${JSON.stringify(record.session, null, 2)}\n`);
}

function unreadable(record: InspectedRecord<SessionData>): CliError {
  return new CliError(
    record.state === 'corrupt' ? 'ERR_CORRUPT' : 'ERR_UNREADABLE',
    `the record cannot be read: ${record.reason ?? record.state}`,
    record.state === 'unreadable'
      ? 'give the keys it was sealed with (--encryption-key)'
      : undefined,
  );
}

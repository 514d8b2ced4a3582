import { createReadStream } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { type SessionData, SessionStoreError } from '@sessionfs/core';
import { CliError, usageError } from '../errors.js';
import { type ForeignEntry, type ForeignFormat, readForeignSessions } from '../importers/index.js';
import { writeOut } from '../io.js';
import { count, isoTime, parseDuration } from '../units.js';
import { type CommandContext, type CommonOptions, progressOf, withStore } from './context.js';

/** `export`: the live sessions as NDJSON on stdout, `{ id, expiresAt, session }` a line. */
export async function exportSessions(context: CommandContext<CommonOptions>): Promise<void> {
  const { io } = context;
  const counts = { exported: 0, expired: 0, unreadable: 0 };
  await withStore(context, async (store) => {
    const progress = progressOf(context, 'export', 'sessions', await store.count());
    let seen = 0;
    try {
      for await (const record of store.inspect({ sessions: true, signal: io.signal })) {
        seen += 1;
        if ((seen & 255) === 0) progress.update(seen);
        if (record.state === 'expired') counts.expired += 1;
        if (record.state !== 'live') {
          if (record.state !== 'expired') counts.unreadable += 1;
          continue;
        }
        if (record.session === undefined || record.id === null || record.expiresAt === null)
          continue;
        const line = JSON.stringify({
          id: record.id,
          expiresAt: isoTime(record.expiresAt),
          session: record.session,
        });
        await writeOut(io.stdout, `${line}\n`);
        counts.exported += 1;
      }
    } finally {
      progress.update(seen);
      progress.stop();
    }
  });
  if (!context.options.quiet) {
    io.stderr.write(
      `exported ${count(counts.exported)} sessions; left out ${count(counts.expired)} expired, ${count(counts.unreadable)} unreadable\n`,
    );
  }
}

export interface ImportOptions extends CommonOptions {
  from?: string;
  /** session-file-store's `ttl`. */
  ttl?: string;
  /** session-file-store's `fileExtension`. */
  fileExtension?: string;
  /** itrocks: the lifetime of a session whose cookie has no expiry. */
  lifetime?: string;
}

const FORMATS: readonly ForeignFormat[] = ['session-file-store', 'itrocks'];
/** Reasons of rejected entries printed in full; the rest are counted. */
const REASONS_SHOWN = 10;

/** One entry of an import, from our NDJSON or another store's directory. */
type Entry =
  | { kind: 'session'; id: string; session: SessionData; expiresAt: number }
  | { kind: 'unreadable'; where: string; reason: string };

/**
 * `import [file]` (NDJSON, stdin when no file) or `import --from <format> <dir>`: writes
 * each live session with its expiry, and never over a session the store holds already
 * (an app may be using it): a rerun after a stop goes on where it ended.
 */
export async function importSessions(
  context: CommandContext<ImportOptions>,
  source: string | undefined,
): Promise<void> {
  const { io, options } = context;
  const counts = { imported: 0, present: 0, expired: 0, unreadable: 0 };
  const { entries, total } = await entriesOf(context, source);
  await withStore(
    context,
    async (store) => {
      const progress = progressOf(context, 'import', 'sessions', total);
      let seen = 0;
      try {
        for await (const entry of entries) {
          if (io.signal.aborted) break;
          seen += 1;
          if ((seen & 63) === 0) progress.update(seen);
          if (entry.kind === 'unreadable') {
            reject(context, counts, entry.where, entry.reason);
            continue;
          }
          if (entry.expiresAt <= Date.now()) {
            counts.expired += 1;
            continue;
          }
          try {
            const added = await store.add(entry.id, entry.session, { expiresAt: entry.expiresAt });
            counts[added ? 'imported' : 'present'] += 1;
          } catch (error) {
            // A session this store cannot hold is reported; a failing backend stops the run.
            if (!isRejection(error)) throw error;
            reject(
              context,
              counts,
              `session ${JSON.stringify(entry.id)}`,
              (error as Error).message,
            );
          }
        }
      } finally {
        progress.update(seen);
        progress.stop();
      }
    },
    { mustExist: false },
  );
  const lines = [
    `imported ${count(counts.imported)} sessions`,
    `skipped ${count(counts.present)} already in the store, ${count(counts.expired)} expired, ${count(counts.unreadable)} unreadable`,
  ];
  if (io.signal.aborted) lines.push('stopped before the end: run the same import again to go on');
  if (options.from !== undefined) lines.push(`the files in ${source} are left as they were`);
  await writeOut(io.stdout, `${lines.join('\n')}\n`);
}

function reject(
  context: CommandContext<ImportOptions>,
  counts: { unreadable: number },
  where: string,
  reason: string,
): void {
  counts.unreadable += 1;
  if (counts.unreadable <= REASONS_SHOWN) {
    context.io.stderr.write(
      `sessionfs: unreadable: ${where}: ${reason.replace(/^@sessionfs(\/[a-z-]+)?: /, '')}\n`,
    );
  } else if (counts.unreadable === REASONS_SHOWN + 1) {
    context.io.stderr.write('sessionfs: more unreadable entries: counted, not shown\n');
  }
}

/** Errors that reject one session, not the run. */
function isRejection(error: unknown): boolean {
  return (
    SessionStoreError.isInstance(error) &&
    ['ERR_INVALID_ID', 'ERR_TOO_LARGE', 'ERR_ENCODE_FAILED', 'ERR_QUOTA_EXCEEDED'].includes(
      error.code,
    )
  );
}

async function entriesOf(
  context: CommandContext<ImportOptions>,
  source: string | undefined,
): Promise<{ entries: AsyncIterable<Entry>; total: number | undefined }> {
  const { options, io } = context;
  if (options.from !== undefined) {
    const format = options.from as ForeignFormat;
    if (!FORMATS.includes(format)) {
      throw usageError(
        `--from ${options.from} is not a store we import from`,
        `give --from ${FORMATS.join(' or --from ')}`,
      );
    }
    if (source === undefined) {
      throw usageError(
        `--from ${format} needs the directory of its sessions`,
        `sessionfs import --from ${format} <dir> --dir <our dir>`,
      );
    }
    const foreign = {
      ttlSeconds: options.ttl === undefined ? undefined : parseDuration(options.ttl) / 1000,
      fileExtension: options.fileExtension,
      lifetimeWithoutExpiryMs:
        options.lifetime === undefined ? undefined : parseDuration(options.lifetime),
    };
    // Checks the options now, before anything is counted or written.
    const entries = readForeignSessions(format, source, foreign);
    return { entries: foreignEntries(entries), total: await entryCount(source) };
  }
  if (options.ttl ?? options.fileExtension ?? options.lifetime) {
    throw usageError(
      '--ttl, --file-extension and --lifetime go with --from',
      'sessionfs import --help',
    );
  }
  if (source === undefined || source === '-') {
    if ((io.stdin as { isTTY?: boolean }).isTTY) {
      throw usageError(
        'import reads NDJSON from a file or from stdin',
        'sessionfs import sessions.ndjson --dir <path>, or pipe sessionfs export into it',
      );
    }
    return { entries: ndjsonEntries(io.stdin), total: undefined };
  }
  const lines = await lineCount(source);
  return { entries: ndjsonEntries(createReadStream(source)), total: lines };
}

async function* foreignEntries(entries: AsyncIterable<ForeignEntry>): AsyncIterable<Entry> {
  for await (const entry of entries) {
    if (entry.kind === 'unreadable') {
      yield { kind: 'unreadable', where: entry.file, reason: entry.reason };
    } else {
      yield { kind: 'session', id: entry.id, session: entry.session, expiresAt: entry.expiresAt };
    }
  }
}

/** The lines of an export, checked one by one: a bad line is reported, not fatal. */
async function* ndjsonEntries(input: NodeJS.ReadableStream): AsyncIterable<Entry> {
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    yield parseLine(line, `line ${number}`);
  }
}

function parseLine(line: string, where: string): Entry {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { kind: 'unreadable', where, reason: 'not JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null) {
    return { kind: 'unreadable', where, reason: 'not an object' };
  }
  const { id, expiresAt, session } = parsed as Record<string, unknown>;
  if (typeof id !== 'string') return { kind: 'unreadable', where, reason: 'no string "id"' };
  if (typeof session !== 'object' || session === null || Array.isArray(session)) {
    return { kind: 'unreadable', where, reason: 'no object "session"' };
  }
  const expiry = typeof expiresAt === 'number' ? expiresAt : Date.parse(String(expiresAt));
  if (!Number.isFinite(expiry)) {
    return { kind: 'unreadable', where, reason: '"expiresAt" is not a time' };
  }
  return { kind: 'session', id, session: session as SessionData, expiresAt: expiry };
}

async function lineCount(file: string): Promise<number> {
  const stats = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      'ERR_NO_FILE',
      `cannot read ${file} (${error.code ?? error.message})`,
      'check the path of the file to import',
    );
  });
  if (!stats.isFile())
    throw new CliError(
      'ERR_NO_FILE',
      `${file} is not a file`,
      'give the file sessionfs export wrote',
    );
  let lines = 0;
  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    for (let at = buffer.indexOf(0x0a); at !== -1; at = buffer.indexOf(0x0a, at + 1)) lines += 1;
  }
  return lines;
}

async function entryCount(dir: string): Promise<number> {
  let entries = 0;
  const handle = await opendir(dir).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(
      'ERR_NO_DIRECTORY',
      `cannot open ${dir} (${error.code ?? error.message})`,
      'give the directory the other store keeps its sessions in',
    );
  });
  for await (const _ of handle) entries += 1;
  return entries;
}

import type { ForeignEntry, UnreadableFile } from './foreign-entries.js';

/** A regular file of a foreign session directory, read whole as UTF-8 text. */
export interface SessionFileText {
  readonly kind: 'file';
  /** The file's name within the directory. */
  readonly name: string;
  readonly text: string;
  /** The file's last modification, in whole epoch milliseconds. */
  readonly modifiedAt: number;
}

/**
 * What one foreign store's format comes down to, chosen once per import: which file names
 * are its sessions, and how a session and its expiry are read from a file's text.
 */
export interface FormatReader {
  /** The session id a file name stands for, or `undefined` when the name is not a session's. */
  sessionIdOf(fileName: string): string | undefined;
  /** The session in `file` (whose name gave `id`), or why it cannot be imported. */
  decode(file: SessionFileText, id: string): ForeignEntry;
}

/** An {@link UnreadableFile} entry. */
export function unreadable(file: string, reason: string): UnreadableFile {
  return { kind: 'unreadable', file, reason };
}

/** True for a JSON object (not an array, not `null`). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * `text` parsed as a JSON object, or `undefined`. The parser's error is dropped on purpose:
 * its message quotes the text, which may hold session data.
 */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRecord(parsed) ? parsed : undefined;
}

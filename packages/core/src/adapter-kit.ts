import { randomBytes } from 'node:crypto';
import { type ErrorCode, ErrorCodes, SessionStoreError } from './errors.js';
import { redactError, redactKey } from './redaction.js';

/**
 * Random bytes drawn once per process, for adapters that must name their writes uniquely
 * across processes (temp file names, write tags): with a counter, unique within the
 * process too, without drawing random bytes on every write.
 */
export const PROCESS_TOKEN: Uint8Array = randomBytes(8);

/** {@link PROCESS_TOKEN} as 16 lowercase hex digits. */
export const PROCESS_TOKEN_HEX: string = Buffer.from(PROCESS_TOKEN).toString('hex');

/** What {@link adapterError} says of a failure. */
export interface AdapterErrorDetails {
  /** The adapter's package name, which starts the message: `@sessionfs/adapter-node`. */
  adapter: string;
  /** What failed, as a verb phrase: `read`, `write`, `list`. */
  action: string;
  /** The stable code for this kind of failure; the caller maps the backend's error to it. */
  code: ErrorCode;
  /**
   * The key concerned. It encodes a session id, a bearer secret: it is shortened wherever
   * it appears in the message, and scrubbed from a copy of the cause.
   */
  key?: string | undefined;
  /** What was acted on, when more than the key (a file path); default the key. */
  subject?: string | undefined;
  /** A short detail appended to the message (the errno, the backend's reply). */
  detail?: string | undefined;
}

/**
 * The `SessionStoreError` an adapter rejects with when its backend fails: the code the
 * adapter chose, a message naming the adapter, the action and the subject, and the
 * backend's error as the cause, with the session key redacted throughout. A
 * `SessionStoreError` passes through unchanged, so wrapping twice is harmless.
 */
export function adapterError(error: unknown, details: AdapterErrorDetails): SessionStoreError {
  if (SessionStoreError.isInstance(error)) return error;
  const { adapter, action, code, key, detail } = details;
  const hide = (text: string) => (key === undefined ? text : text.split(key).join(redactKey(key)));
  const subject = details.subject ?? key;
  const message = `${adapter}: cannot ${action}${subject === undefined ? '' : ` ${hide(subject)}`}${detail ? hide(detail) : ''}`;
  return new SessionStoreError(code, message, {
    cause: key === undefined ? error : redactError(error, key),
  });
}

/**
 * The `ERR_TOO_LARGE` an adapter's `read` rejects with for a value over `maxBytes`, naming
 * the key only in its redacted form.
 */
export function tooLargeError(
  adapter: string,
  key: string,
  maxBytes: number,
  size?: number,
): SessionStoreError {
  const held = size === undefined ? '' : ` (${size} bytes)`;
  return new SessionStoreError(
    ErrorCodes.TOO_LARGE,
    `${adapter}: ${redactKey(key)} is larger than the ${maxBytes} bytes allowed${held}`,
  );
}

/** The `ERR_CLOSED` every method of an adapter rejects with after `close()`. */
export function closedError(adapter: string): SessionStoreError {
  return new SessionStoreError(ErrorCodes.CLOSED, `${adapter}: the adapter is closed`);
}

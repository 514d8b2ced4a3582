import { hasErrorCode, SessionStoreError } from '@sessionfs/core';

/** What `sessionfs` exits with. */
export const ExitCodes = {
  OK: 0,
  /** The command failed: the store, the backend or the input. */
  FAILURE: 1,
  /** The command line is wrong: nothing was done. */
  USAGE: 2,
  /** Stopped by Ctrl+C (128 + SIGINT, as shells expect): what was done stays done. */
  INTERRUPTED: 130,
} as const;

/** A failure the command line reports in one line: its code, what happened, what to do. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
    readonly exitCode: number = ExitCodes.FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A wrong command line: exits 2. */
export function usageError(message: string, hint?: string): CliError {
  return new CliError('ERR_USAGE', message, hint, ExitCodes.USAGE);
}

/** What to do about each store error code, in a few words. */
const HINTS: Partial<Record<string, string>> = {
  ERR_UNSAFE_DIRECTORY:
    'run as the user the app runs as (sudo -u <user> sessionfs ...), or pass --access group for a directory shared by a group',
  ERR_PERMISSION: 'run as the user the app runs as (sudo -u <user> sessionfs ...)',
  ERR_UNAVAILABLE: 'check that the backend is up and the address is right',
  ERR_NO_SPACE: 'free disk space, then run the command again: it goes on where it stopped',
  ERR_INVALID_OPTION: 'check the options (sessionfs <command> --help)',
  ERR_INVALID_ID: 'session ids are non-empty UTF-8 strings of at most 4,096 bytes',
  ERR_BUSY: 'another process is pruning this store right now; run the command again later',
};

/** The one line printed for `error`: `sessionfs: CODE: message (what to do)`. */
export function describeError(error: unknown): { line: string; exitCode: number } {
  if (error instanceof CliError) {
    return {
      line: `sessionfs: ${error.code}: ${error.message}${error.hint ? `. ${error.hint}` : ''}`,
      exitCode: error.exitCode,
    };
  }
  if (SessionStoreError.isInstance(error)) {
    const causes = causeMessages(error);
    const hint = HINTS[error.code];
    return {
      line: `sessionfs: ${error.code}: ${withoutPrefix(error.message)}${causes}${hint ? `. ${hint}` : ''}`,
      exitCode: hasErrorCode(error, 'ERR_INVALID_OPTION') ? ExitCodes.USAGE : ExitCodes.FAILURE,
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { line: `sessionfs: ERR_UNEXPECTED: ${message}`, exitCode: ExitCodes.FAILURE };
}

/** The messages of the causes of `error`, which say what the backend said. */
function causeMessages(error: Error): string {
  const parts: string[] = [];
  for (let cause = error.cause; cause instanceof Error && parts.length < 3; cause = cause.cause) {
    parts.push(withoutPrefix(cause.message));
  }
  return parts.length === 0 ? '' : `: ${parts.join(': ')}`;
}

function withoutPrefix(message: string): string {
  return message.replace(/^@sessionfs(\/[a-z-]+)?: /, '');
}

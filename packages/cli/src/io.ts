/** Where a command reads and writes: the process's own, or a test's. */
export interface Io {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly stdin: NodeJS.ReadableStream;
  readonly env: NodeJS.ProcessEnv;
  /** Aborts when the user presses Ctrl+C: long commands stop between two sessions. */
  readonly signal: AbortSignal;
}

/** The reader of stdout went away (`sessionfs ls | head`): the command ends quietly. */
export class OutputClosed extends Error {}

/** Writes `text` to `stream`, waiting when the reader is slower (a pipe to `head`, say). */
export async function writeOut(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if ((stream as { destroyed?: boolean }).destroyed) throw new OutputClosed('stdout is closed');
  if (!stream.write(text)) {
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        stream.off('drain', done);
        stream.off('error', done);
        if (error) reject(new OutputClosed(error.message));
        else resolve();
      };
      stream.once('drain', done);
      stream.once('error', done);
    });
  }
}

/** A log function in pino's shape: an object of fields, then a message. */
export type LogFn = (fields: Record<string, unknown>, message: string) => void;

/**
 * Where the store reports what a user should know about: corrupt records set aside,
 * reaper runs, background failures. `fastify.log` and any pino logger fit as they are.
 */
export interface StoreLogger {
  debug?: LogFn;
  info?: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** Without a logger, warnings and errors still reach stderr; nothing else is printed. */
export const stderrLogger: StoreLogger = {
  warn: (fields, message) => console.warn(message, fields),
  error: (fields, message) => console.error(message, fields),
};

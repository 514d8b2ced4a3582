import type { StoreLogger } from '@sessionfs/core';

/** A logger that keeps what the store reported, to assert on it. */
export function recordingLogger() {
  const warnings: { message: string; fields: Record<string, unknown> }[] = [];
  const errors: { message: string; fields: Record<string, unknown> }[] = [];
  const infos: { message: string; fields: Record<string, unknown> }[] = [];
  const logger: StoreLogger = {
    info: (fields, message) => infos.push({ message, fields }),
    warn: (fields, message) => warnings.push({ message, fields }),
    error: (fields, message) => errors.push({ message, fields }),
  };
  return { logger, warnings, errors, infos };
}

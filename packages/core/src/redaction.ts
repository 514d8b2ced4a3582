/**
 * A session key is the session id encoded (reversibly), and a session id is a bearer
 * secret. Errors and logs name keys in this shortened form only.
 */
export function redactKey(key: string): string {
  return key.length <= 12 ? key : `${key.slice(0, 8)}…(${key.length})`;
}

/**
 * A copy of `error` that is safe to log: every occurrence of `key` in its message, stack
 * and string fields (a file path, a rename's destination) is replaced by
 * {@link redactKey}, and fields that are not strings or numbers (a client's command with
 * its arguments) are dropped. Name, code, errno and syscall survive.
 */
export function redactError(error: unknown, key: string): Error {
  const redacted = redactKey(key);
  const scrub = (text: string) => text.split(key).join(redacted);
  if (!(error instanceof Error)) return new Error(scrub(String(error)));
  const copy = new Error(scrub(error.message));
  copy.name = error.name;
  if (error.stack !== undefined) copy.stack = scrub(error.stack);
  for (const [field, value] of Object.entries(error)) {
    if (typeof value === 'string') Object.assign(copy, { [field]: scrub(value) });
    else if (typeof value === 'number') Object.assign(copy, { [field]: value });
  }
  return copy;
}

import { randomBytes } from 'node:crypto';
import { encryptionOf, KEYS_VARIABLE } from '../backend.js';
import { usageError } from '../errors.js';
import { writeOut } from '../io.js';
import { count } from '../units.js';
import { bulkRun, type CommandContext, type CommonOptions } from './context.js';

/** `keygen`: a new random encryption key (32 bytes, base64), for `encryption.keys`. */
export async function keygen(context: CommandContext<object>): Promise<void> {
  await writeOut(context.io.stdout, `${randomBytes(32).toString('base64')}\n`);
}

/**
 * `rekey`: seals every session that is not sealed with the current key (the first given)
 * again with it, never over a save the app makes meanwhile; afterwards the older keys can
 * be dropped from the app's settings. Stops cleanly, and a rerun goes on.
 */
export async function rekey(context: CommandContext<CommonOptions>): Promise<void> {
  const { io } = context;
  if (encryptionOf(context.options, io.env) === undefined) {
    throw usageError(
      'rekey needs the encryption keys',
      `give --encryption-key <new> --encryption-key <old> (the new one first), or ${KEYS_VARIABLE}`,
    );
  }
  const result = await bulkRun(context, 'rekey', (store, control) => store.rekey(control));
  const lines = [
    `re-sealed ${count(result.rekeyed)} sessions with the current key; ${count(result.current)} already were`,
    `left ${count(result.skipped)} (expired, unreadable with these keys, or saved meanwhile), ${count(result.failed)} failed`,
  ];
  if (result.stopped) lines.push('stopped before the end: run rekey again to go on');
  else if (result.failed > 0) lines.push('run rekey again to retry the failed ones');
  await writeOut(io.stdout, `${lines.join('\n')}\n`);
}

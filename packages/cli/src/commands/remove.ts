import { sessionKey } from '@sessionfs/core';
import { usageError } from '../errors.js';
import { writeOut } from '../io.js';
import { count } from '../units.js';
import { bulkRun, type CommandContext, type CommonOptions, withStore } from './context.js';

/** `rm <id...>`: removes these sessions, reporting the ids that were not there. */
export async function remove(context: CommandContext<CommonOptions>, ids: string[]): Promise<void> {
  if (ids.length === 0) throw usageError('rm needs at least one session id');
  const keys = ids.map((id) => sessionKey(id));
  const { removed, missing } = await withStore(context, async (store) => {
    let removed = 0;
    const missing: string[] = [];
    for (const [index, id] of ids.entries()) {
      // Whether it is there, for the report: `destroy` is idempotent and says nothing.
      const found = await store.inspectKey(keys[index] as string);
      await store.destroy(id);
      if (found === null) missing.push(id);
      else removed += 1;
    }
    return { removed, missing };
  });
  const lines = [`removed ${count(removed)} session${removed === 1 ? '' : 's'}`];
  for (const id of missing) lines.push(`not found: ${id}`);
  await writeOut(context.io.stdout, `${lines.join('\n')}\n`);
}

/**
 * `prune`: what the reaper does, now: expired sessions, leftovers of interrupted writes,
 * old records set aside. Safe beside a live server: a session written or renewed while it
 * runs is never removed.
 */
export async function prune(context: CommandContext<CommonOptions>): Promise<void> {
  const { io } = context;
  const started = Date.now();
  const result = await bulkRun(context, 'prune', (store, control) => store.reap(control));
  const seconds = (Date.now() - started) / 1000;
  const lines = [
    `pruned ${count(result.removed)} expired session${result.removed === 1 ? '' : 's'} of ${count(result.scanned)} looked at, in ${seconds.toFixed(1)} s`,
    `removed ${count(result.leftovers)} leftovers of interrupted writes, ${count(result.setAsideRemoved)} old records set aside`,
  ];
  if (result.stopped) lines.push('stopped before the end: run prune again to go on');
  await writeOut(io.stdout, `${lines.join('\n')}\n`);
}

export interface ClearOptions extends CommonOptions {
  yes?: boolean;
}

/** `clear --yes`: removes every session. Without `--yes` it refuses and removes nothing. */
export async function clear(context: CommandContext<ClearOptions>): Promise<void> {
  if (!context.options.yes) {
    throw usageError(
      'clear removes every session and logs every user out; nothing was removed',
      'add --yes to do it',
    );
  }
  const removed = await withStore(context, (store) => store.clear(), { bulk: true });
  await writeOut(
    context.io.stdout,
    `removed ${count(removed)} session${removed === 1 ? '' : 's'}\n`,
  );
}

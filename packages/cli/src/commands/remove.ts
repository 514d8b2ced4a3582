import { sessionKey } from '@sessionfs/core';
import { usageError } from '../errors.js';
import { writeOut } from '../io.js';
import {
  type OwnerEntries,
  type OwnerOptions,
  ownedRecords,
  ownerAskedFor,
  ownerLookupOf,
  unreadableNote,
  whyNoneFound,
} from '../owners.js';
import { count } from '../units.js';
import { bulkRun, type CommandContext, type CommonOptions, withStore } from './context.js';

export interface RemoveOptions extends CommonOptions, OwnerOptions {
  except?: string[];
}

/**
 * `rm <id...>`: removes these sessions, reporting the ids that were not there.
 * `rm --owner <owner>`: removes every session of that owner (but `--except`), as the app's
 * "log out everywhere" does. Neither asks for `--yes`: both name whose sessions go.
 */
export async function remove(context: CommandContext<RemoveOptions>, ids: string[]): Promise<void> {
  const { options } = context;
  const owner = ownerAskedFor(options);
  if (owner !== undefined) {
    if (ids.length > 0) {
      throw usageError('give session ids or --owner, not both', 'sessionfs rm --owner <owner>');
    }
    await removeOwned(context, owner);
    return;
  }
  if (options.except !== undefined) {
    throw usageError('--except needs --owner', 'sessionfs rm --owner <owner> --except <id>');
  }
  if (ids.length === 0) {
    throw usageError('rm needs session ids or --owner', 'sessionfs rm <id...> --dir <path>');
  }
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

/** `rm --owner`: ends the owner's sessions through the owner index, never a scan. */
async function removeOwned(context: CommandContext<RemoveOptions>, owner: string): Promise<void> {
  const { io, options } = context;
  const lookup = ownerLookupOf(options, io.env);
  const { removed, notes } = await withStore(
    context,
    async (store) => {
      const removed = await store.destroyOwner(owner, { except: options.except ?? [] });
      if (removed > 0) return { removed, notes: [] };
      // None: a look at the owner's entries says why, when it can.
      const entries: OwnerEntries = { indexed: 0, others: 0, unreadable: 0 };
      for await (const _ of ownedRecords(store, lookup, owner, entries, io.signal));
      return {
        removed,
        notes: [unreadableNote(owner, entries), await whyNoneFound(store, lookup, owner, entries)],
      };
    },
    { owner: lookup },
  );
  await writeOut(
    io.stdout,
    `removed ${count(removed)} session${removed === 1 ? '' : 's'} of ${owner}\n`,
  );
  for (const note of notes) if (note !== undefined) io.stderr.write(`${note}\n`);
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

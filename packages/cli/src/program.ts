import { Command, CommanderError, Option } from 'commander';
import manifest from '../package.json' with { type: 'json' };
import { KEYS_VARIABLE } from './backend.js';
import type { CommandContext, CommonOptions } from './commands/context.js';
import { list, show, stats } from './commands/inspect.js';
import { keygen, rekey } from './commands/keys.js';
import { layout } from './commands/layout.js';
import { clear, prune, type RemoveOptions, remove } from './commands/remove.js';
import { exportSessions, importSessions } from './commands/transfer.js';
import { describeError, ExitCodes } from './errors.js';
import { type Io, OutputClosed } from './io.js';
import { DEFAULT_OWNER_PATH, OWNER_PATH_VARIABLE } from './owners.js';
import { PROGRESS_VARIABLE } from './progress.js';

export { ExitCodes } from './errors.js';

const BACKEND_HELP = `
Stores:
  --dir <path>     a directory of the node adapter (@sessionfs/fastify-session-file's \`dir\`)
  --redis <url>    Redis, e.g. redis://127.0.0.1:6379 (with --prefix when the app sets one)

Encrypted stores: --encryption-key <key> (repeat it: current key first), or the keys in
${KEYS_VARIABLE}, comma-separated, which \`ps\` does not show.`;

/** Adds the options that name the store, shared by every command. */
function withBackend(command: Command): Command {
  return command
    .option('--dir <path>', 'the session directory')
    .option('--redis <url>', 'the Redis server')
    .option('--prefix <prefix>', 'prefix of the Redis keys (default sessionfs:)')
    .addOption(
      new Option('--access <who>', 'who may use the directory (as the adapter option)').choices([
        'owner',
        'group',
      ]),
    )
    .option(
      '--encryption-key <key>',
      'an encryption key (hex, base64, or passphrase:<text>); repeat for older keys',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--accept-plaintext', 'read records written before encryption was turned on')
    .option('-q, --quiet', 'no progress on stderr')
    .addHelpText('after', BACKEND_HELP);
}

const OWNER_HELP = `
Owners: --owner reads the sessions the store's owner index holds for that owner (the app
sets the store's \`owner\` option). --owner-path says where a session names its owner, as
the app's \`owner\` function reads it: ${OWNER_PATH_VARIABLE}, else ${DEFAULT_OWNER_PATH}
(for \`owner: (s) => s.user?.id\`). Passport: passport.user (Express), passport (Fastify).`;

/** Adds `--owner` and `--owner-path`, for the commands about one owner's sessions. */
function withOwner(command: Command): Command {
  return command
    .option('--owner <id>', "only this owner's sessions, through the owner index")
    .option(
      '--owner-path <path>',
      `where a session names its owner (default ${OWNER_PATH_VARIABLE}, else ${DEFAULT_OWNER_PATH})`,
    )
    .addHelpText('after', OWNER_HELP);
}

function examples(lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

/**
 * Runs `sessionfs` with `argv` (the arguments after the program name) and resolves the
 * exit code; output and errors go to `io`, the process's streams by default.
 */
export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let exitCode: number = ExitCodes.OK;
  const run =
    <O extends CommonOptions, A extends unknown[]>(
      body: (context: CommandContext<O>, ...args: A) => Promise<void>,
    ) =>
    async (...args: unknown[]) => {
      // commander passes the positional arguments, then the options, then the command.
      const command = args[args.length - 1] as Command;
      const positional = args.slice(0, -2) as A;
      await body({ options: command.opts<O>(), io, now: Date.now() }, ...positional);
    };

  const program = new Command('sessionfs')
    .description(
      'Inspect, prune, export and import the sessions of a sessionfs store: a directory or Redis.',
    )
    .version(manifest.version, '-v, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      // One line, as every other error: the code, what is wrong, where help is.
      outputError: (text, write) =>
        write(
          `sessionfs: ERR_USAGE: ${text.trim().replace(/^error: /, '')}. See sessionfs --help, or sessionfs <command> --help\n`,
        ),
    })
    .addHelpText(
      'after',
      `${BACKEND_HELP}

Exit codes: 0 done, 1 failed, 2 wrong command line, 130 stopped by Ctrl+C.
Progress goes to stderr: a bar on a terminal, a line every few seconds otherwise
(${PROGRESS_VARIABLE} sets how many ms apart). Results go to stdout.`,
    );

  withBackend(program.command('stats'))
    .description('count sessions, bytes and leftovers; when they expire. Reads only.')
    .option('--json', 'one JSON object')
    .addHelpText(
      'after',
      examples([
        'sessionfs stats --dir /var/lib/myapp/sessions',
        'sessionfs stats --redis redis://127.0.0.1:6379 --json',
      ]),
    )
    .action(run(stats));

  withOwner(withBackend(program.command('ls')))
    .description('one line per live session (expiry, size, id), streamed. Reads only.')
    .option('--expired', 'expired sessions not yet pruned, instead of live ones')
    .option('--expiring-within <duration>', 'live sessions expiring within, e.g. 15m, 1h, 2d')
    .option('--larger-than <size>', 'sessions larger than, e.g. 512, 100kB, 1MB')
    .option('--json', 'NDJSON: {id, key, expiresAt, size, state} a line')
    .addHelpText(
      'after',
      examples([
        'sessionfs ls --dir ./sessions',
        'sessionfs ls --dir ./sessions --expiring-within 1h',
        'sessionfs ls --dir ./sessions --larger-than 100kB --json | jq -r .id',
        'sessionfs ls --dir ./sessions --owner alice',
        'sessionfs ls --dir ./sessions --owner 42 --owner-path passport.user --json',
      ]),
    )
    .action(run(list));

  withBackend(program.command('show'))
    .argument('[id]', 'the session id (the cookie value, unsigned)')
    .description('one session, decoded and pretty-printed. Reads only.')
    .option('--json', 'the session as one line of JSON')
    .option('--file <path>', 'a record file of a session directory, instead of an id')
    .addHelpText(
      'after',
      examples([
        'sessionfs show 3tqRz8yYgH0bOQ5kY2Qn3w --dir ./sessions',
        'sessionfs show --file ./sessions/s.gm5xmzlw...',
        'sessionfs show 3tqRz8yYgH0bOQ5kY2Qn3w --redis redis://127.0.0.1:6379 --json | jq .user',
      ]),
    )
    .action(run(show));

  withOwner(withBackend(program.command('rm')))
    .argument('[id...]', 'session ids')
    .description(
      "remove sessions, by id or all of an owner's (log out everywhere): their users are logged out",
    )
    .option(
      '--except <id>',
      'with --owner: keep this session (the one the user is in, say); repeat for more',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .addHelpText(
      'after',
      examples([
        'sessionfs rm 3tqRz8yYgH0bOQ5kY2Qn3w --dir ./sessions',
        'sessionfs rm --owner alice --dir ./sessions',
        `${OWNER_PATH_VARIABLE}=passport.user sessionfs rm --owner 42 --except 3tqRz8yYgH0bOQ5kY2Qn3w --dir ./sessions`,
      ]),
    )
    .action(run<RemoveOptions, [string[]]>((context, ids) => remove(context, ids)));

  withBackend(program.command('prune'))
    .description(
      'remove expired sessions, leftovers of interrupted writes and old records set aside, now (what the reaper does); safe beside a running app',
    )
    .addHelpText('after', examples(['sessionfs prune --dir /var/lib/myapp/sessions']))
    .action(run(prune));

  withBackend(program.command('clear'))
    .description('remove every session: every user is logged out. Needs --yes')
    .option('--yes', 'really remove every session')
    .addHelpText('after', examples(['sessionfs clear --dir ./sessions --yes']))
    .action(run(clear));

  withBackend(program.command('export'))
    .description(
      'the live sessions as NDJSON on stdout: {id, expiresAt, session} a line. Reads only.',
    )
    .addHelpText(
      'after',
      examples([
        'sessionfs export --dir ./sessions > sessions.ndjson',
        'sessionfs export --dir ./sessions | sessionfs import --redis redis://127.0.0.1:6379',
      ]),
    )
    .action(run(exportSessions));

  withBackend(program.command('rekey'))
    .description(
      'seal every session with the current key (the first --encryption-key), never over a save the app makes meanwhile; then the older keys can go',
    )
    .addHelpText(
      'after',
      examples([
        'sessionfs rekey --dir ./sessions --encryption-key "$NEW_KEY" --encryption-key "$OLD_KEY"',
        'SESSIONFS_ENCRYPTION_KEYS="$NEW_KEY,$OLD_KEY" sessionfs rekey --dir ./sessions',
      ]),
    )
    .action(run(rekey));

  program
    .command('keygen')
    .description('print a new random encryption key (32 bytes, base64) for `encryption.keys`')
    .addHelpText('after', examples(['sessionfs keygen']))
    .action(run(keygen));

  withBackend(program.command('layout'))
    .argument('[layout]', 'flat or sharded: lay the directory out anew')
    .description(
      'print how the directory spreads its files (flat, or sharded over 16 subdirectories), or change it. Stop the app first: it keeps the layout it found when it started',
    )
    .addHelpText(
      'after',
      examples([
        'sessionfs layout --dir ./sessions',
        'sessionfs layout sharded --dir ./sessions',
        'sessionfs layout flat --dir ./sessions   # before going back to a sessionfs without layouts',
      ]),
    )
    .action(run<CommonOptions, [string | undefined]>((context, wanted) => layout(context, wanted)));

  withBackend(program.command('import'))
    .argument(
      '[source]',
      "an NDJSON file (default stdin), or with --from the other store's directory",
    )
    .description(
      'write sessions with their expiry; never over a session the store holds. Rerun to go on after a stop',
    )
    .addOption(
      new Option('--from <store>', "read another store's session directory").choices([
        'session-file-store',
        'itrocks',
      ]),
    )
    .option(
      '--ttl <duration>',
      'with --from session-file-store: its `ttl`, for sessions without cookie maxAge (default 1h)',
    )
    .option(
      '--file-extension <ext>',
      'with --from session-file-store: its `fileExtension` (default .json)',
    )
    .option(
      '--lifetime <duration>',
      'with --from itrocks: lifetime of sessions whose cookie has no expiry, from their last change (default 1d)',
    )
    .addHelpText(
      'after',
      examples([
        'sessionfs import sessions.ndjson --dir ./sessions',
        'sessionfs import --from session-file-store ./old-sessions --dir ./sessions',
        'sessionfs import --from itrocks ./old-sessions --dir ./sessions',
      ]),
    )
    .action(run(importSessions));

  try {
    await program.parseAsync(argv, { from: 'user' });
    if (io.signal.aborted) exitCode = ExitCodes.INTERRUPTED;
  } catch (error) {
    if (error instanceof OutputClosed) return ExitCodes.OK;
    if (error instanceof CommanderError) {
      // Help and version end with code 0; everything else commander rejects is usage.
      return error.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
    }
    const { line, exitCode: code } = describeError(error);
    io.stderr.write(`${line}\n`);
    exitCode = io.signal.aborted ? ExitCodes.INTERRUPTED : code;
  }
  return exitCode;
}

/**
 * The process's streams, and a signal that Ctrl+C aborts: the command stops between two
 * sessions, reports how far it came, and exits 130. A second Ctrl+C exits at once.
 */
function processIo(): Io {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(ExitCodes.INTERRUPTED);
    process.stderr.write(
      '\nsessionfs: stopping after the sessions under way (Ctrl+C again to quit now)\n',
    );
    controller.abort();
  };
  // A reader gone away (`| head`) ends the command: writes then fail with `OutputClosed`.
  process.stdout.on('error', () => {});
  process.on('SIGINT', onInterrupt);
  process.on('SIGTERM', onInterrupt);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    signal: controller.signal,
  };
}

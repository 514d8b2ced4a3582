// Packs every publishable package (packages/* that is not private) as a release would, and
// checks each tarball with publint and @arethetypeswrong/cli. It builds nothing: run
// `pnpm build` first. Exits 1 when a package fails to pack or any check reports an error.
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const attwBin = join(root, 'node_modules', '.bin', 'attw');

/**
 * The resolutions attw must pass. `node16` skips node10 (`moduleResolution: node`), which
 * ignores `exports` and so never sees subpath entries such as `@sessionfs/core/adapter`: we
 * support Node >= 20 only, whose TypeScript users resolve with node16, nodenext or bundler.
 * An ESM-only package also skips the CommonJS side of node16, which it does not offer.
 */
function attwProfile(manifest) {
  const offersCommonJs = JSON.stringify(manifest.exports ?? {}).includes('.cjs');
  return offersCommonJs ? 'node16' : 'esm-only';
}

const ATTW_IGNORED_RESOLUTIONS = { node16: ['node10'], 'esm-only': ['node10', 'node16-cjs'] };

async function publishableDirs() {
  const packagesDir = join(root, 'packages');
  const dirs = [];
  for (const entry of await readdir(packagesDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(packagesDir, entry.name);
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    if (!manifest.private) dirs.push({ dir, name: manifest.name });
  }
  return dirs;
}

async function pack(dir, destination) {
  const { stdout } = await run('pnpm', ['pack', '--pack-destination', destination, '--json'], {
    cwd: dir,
  });
  const packed = JSON.parse(stdout);
  return { tarball: packed.filename, files: packed.files.map((file) => file.path) };
}

async function runPublint(tarball) {
  const data = await readFile(tarball);
  const buffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  const { messages, pkg } = await publint({ pack: { tarball: buffer }, level: 'error' });
  return { pkg, errors: messages.map((message) => formatMessage(message, pkg, { color: false })) };
}

async function runAttw(tarball, profile) {
  const args = [tarball, '--profile', profile, '--format', 'json'];
  // attw exits 1 when it finds problems; its JSON report is on stdout either way.
  const { stdout } = await run(attwBin, args, { maxBuffer: 64 * 1024 * 1024 }).catch((error) => {
    if (typeof error.stdout === 'string' && error.stdout.startsWith('{')) return error;
    throw error;
  });
  const { analysis } = JSON.parse(stdout);
  if (!analysis.types) return ['no types found'];
  const ignored = ATTW_IGNORED_RESOLUTIONS[profile];
  return analysis.problems
    .filter((problem) => !ignored.includes(problem.resolutionKind))
    .map((problem) =>
      [problem.kind, problem.entrypoint, problem.resolutionKind].filter(Boolean).join(' '),
    );
}

async function checkPackage({ dir, name }, destination) {
  const problems = [];
  let packed;
  try {
    packed = await pack(dir, destination);
  } catch (error) {
    return { summary: `${name}: pnpm pack failed`, problems: [String(error.stderr || error)] };
  }
  if (!packed.files.includes('LICENSE')) problems.push('LICENSE is not in the tarball');

  const { pkg, errors } = await runPublint(packed.tarball);
  problems.push(...errors.map((error) => `publint: ${error}`));
  if (JSON.stringify(pkg).includes('workspace:')) {
    problems.push('the packed package.json still has a workspace: range');
  }

  const profile = attwProfile(pkg);
  const attwProblems = await runAttw(packed.tarball, profile);
  problems.push(...attwProblems.map((problem) => `attw (${profile}): ${problem}`));

  const verdict = [
    `${packed.files.length} files`,
    errors.length ? `publint ${errors.length} error(s)` : 'publint ok',
    attwProblems.length ? `attw ${attwProblems.length} problem(s)` : `attw ok (${profile})`,
  ].join(', ');
  return { summary: `${name}@${pkg.version}: ${verdict}`, problems };
}

const destination = await mkdtemp(join(tmpdir(), 'sessionfs-packages-'));
let failed = false;
try {
  for (const target of await publishableDirs()) {
    const { summary, problems } = await checkPackage(target, destination);
    failed ||= problems.length > 0;
    for (const problem of problems) console.error(`  ${target.name}: ${problem}`);
    console.log(`${problems.length ? '✗' : '✓'} ${summary}`);
  }
} finally {
  await rm(destination, { recursive: true, force: true });
}
if (failed) process.exitCode = 1;

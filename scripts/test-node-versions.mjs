// Runs the test suite again under other Node majors (22 and 24 unless told otherwise), each
// one installed from the npm registry (node-<platform>-<arch>) into .ci/.node/<major>, and
// stops at the first major that fails.
//
//   node scripts/test-node-versions.mjs [major ...] [turbo option ...]
//   e.g. node scripts/test-node-versions.mjs 22 --filter=@sessionfs/core
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const requestedMajors = args.filter((arg) => /^\d+$/.test(arg));
const majors = requestedMajors.length > 0 ? requestedMajors : ['22', '24'];
const turboOptions = args.filter((arg) => !/^\d+$/.test(arg));
const nodePackage = `node-${process.platform}-${process.arch}`;
const binDir = join(repoRoot, 'node_modules', '.bin');

function stop(message, exitCode = 1) {
  console.error(message);
  process.exit(exitCode);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', cwd: repoRoot, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function elapsed(since) {
  const seconds = Math.round((Date.now() - since) / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** Installs the newest release of `major` from the npm registry; returns its node binary. */
function installNode(major) {
  const installDir = join(repoRoot, '.ci', '.node', major);
  mkdirSync(installDir, { recursive: true });
  const npmArgs = ['install', '--prefix', installDir, '--no-audit', '--no-fund'];
  const status = run('npm', [...npmArgs, '--loglevel=error', `${nodePackage}@${major}`]);
  const nodeBinary = join(installDir, 'node_modules', nodePackage, 'bin', 'node');
  if (status !== 0 || !existsSync(nodeBinary)) {
    stop(`Node ${major}: could not install ${nodePackage}@${major} from the npm registry.`);
  }
  return nodeBinary;
}

const results = [];
for (const [index, major] of majors.entries()) {
  const nodeBinary = installNode(major);
  const env = { ...process.env, PATH: `${dirname(nodeBinary)}${delimiter}${process.env.PATH}` };
  // Both name the Node that started pnpm; a tool reading them would not run under this one.
  delete env.NODE;
  delete env.npm_node_execpath;

  const version = spawnSync('node', ['-v'], { env, encoding: 'utf8' }).stdout?.trim() ?? '';
  console.log(`\nNode ${major}: \`node -v\` prints ${version} (${nodeBinary})`);
  if (!version.startsWith(`v${major}.`)) {
    stop(`Node ${major} FAILED: \`node -v\` prints ${version || 'nothing'} with it first in PATH.`);
  }

  // A one-test vitest run, started the way every package's tests are, that checks
  // process.version from inside the test worker.
  const probeStatus = run(join(binDir, 'vitest'), ['run', '--root', 'scripts/node-version-probe'], {
    env: { ...env, EXPECTED_NODE_VERSION: version },
  });
  if (probeStatus !== 0) {
    stop(`Node ${major} FAILED: the vitest probe did not pass under ${version} (see above).`);
  }

  // --force: no task is replayed from turbo's cache, so builds and tests all run under this
  // Node. --continue: one failing package does not cut the others short, so a failing
  // version reports every failing test, not the first one found. Only failing tasks print
  // their logs, each in one block, so that a failure is what the end of a CI log shows.
  const startedAt = Date.now();
  const turboArgs = [
    'run',
    'test',
    '--force',
    '--continue=dependencies-successful',
    '--output-logs=errors-only',
    '--log-order=grouped',
  ];
  const testStatus = run(join(binDir, 'turbo'), [...turboArgs, ...turboOptions], { env });
  if (testStatus !== 0) {
    const notRun = majors.slice(index + 1);
    stop(
      `Node ${major} FAILED: tests under ${version} failed after ${elapsed(startedAt)} ` +
        `(\`turbo run test\` exit ${testStatus})` +
        (notRun.length > 0 ? `; Node ${notRun.join(', ')} not run.` : '.'),
      testStatus,
    );
  }
  results.push(`Node ${major} (${version}): the tests passed in ${elapsed(startedAt)}.`);
  console.log(`\n${results.at(-1)}`);
}
if (results.length > 1) console.log(`\n${results.join('\n')}`);

// Makes sure the system packages the tests need, and npm cannot install, are present before
// any test runs: Chromium (the login demo's browser test) and redis-server with redis-cli
// (the Redis tests start their own servers). As root on a Debian-like system it installs the
// missing ones with apt-get; anywhere else it stops with the one command to run.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

// The login demo's browser test reads the same variable, so a Chromium elsewhere counts.
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function isExecutableFile(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isOnPath(command) {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && isExecutableFile(join(dir, command)));
}

/** The Debian packages to install, named as apt-get knows them. */
function missingPackages() {
  const missing = [];
  if (!isExecutableFile(chromiumPath)) missing.push('chromium');
  // redis-cli comes with redis-server, through its redis-tools dependency.
  if (!isOnPath('redis-server') || !isOnPath('redis-cli')) missing.push('redis-server');
  return missing;
}

function stop(message) {
  console.error(message);
  process.exit(1);
}

function aptGet(args) {
  const result = spawnSync('apt-get', args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.status !== 0) {
    stop(`The tests need ${missing.join(' and ')}, but \`apt-get ${args.join(' ')}\` failed.`);
  }
}

const missing = missingPackages();
if (missing.length === 0) process.exit(0);

const isRoot = process.getuid?.() === 0;
const installCommand = `apt-get install -y ${missing.join(' ')}`;

if (!isOnPath('apt-get')) {
  stop(
    `The tests need ${missing.join(' and ')} (Chromium at ${chromiumPath}, or set CHROMIUM_PATH; ` +
      `redis-server and redis-cli on PATH). This system has no apt-get: install them with its ` +
      `package manager (on Debian: \`sudo ${installCommand}\`), then run the tests again.`,
  );
}
if (!isRoot) {
  stop(
    `The tests need ${missing.join(' and ')}: run \`sudo ${installCommand}\`, then run the tests again.`,
  );
}

console.log(`Installing ${missing.join(' and ')} with apt-get: the tests need them.`);
aptGet(['update']);
aptGet(['install', '-y', ...missing]);

const stillMissing = missingPackages();
if (stillMissing.length > 0) {
  stop(
    `apt-get ran, but the tests still miss ${stillMissing.join(' and ')} ` +
      `(Chromium must be at ${chromiumPath}; redis-server and redis-cli on PATH).`,
  );
}

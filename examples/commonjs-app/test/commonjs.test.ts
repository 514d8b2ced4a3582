import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { sessionKey } from '@sessionfs/core';
import ts from 'typescript';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const here = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

it('runs as a CommonJS app that require()s every runtime package', async () => {
  const { stdout } = await run(process.execPath, ['app.cjs'], { cwd: here });
  expect(stdout.trim().split('\n')).toEqual([
    'hello from require()',
    'hello from require()',
    'plugin: views 2',
    `FileStore: hello in ${sessionKey('cjs')}`,
  ]);
});

/** Compiles a TypeScript file of this project to CommonJS, runs it, and returns its output. */
async function runCompiled(file: string): Promise<string> {
  const source = readFileSync(join(here, file), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
    },
  });
  // Evaluated from this folder, so that its require() calls find the app's dependencies.
  const { stdout } = await run(process.execPath, ['--eval', outputText], { cwd: here });
  return stdout.trim();
}

it('registers the plugin taken as `import … = require(…)` and keeps a session', async () => {
  expect(await runCompiled('import-require.ts')).toBe(
    'import = require(): hello from import = require()',
  );
});

it('serves express-session with FileStore from a CommonJS TypeScript app', async () => {
  expect(await runCompiled('express-app.ts')).toBe('express-session: views 2');
});

it('declares for require() the names the ESM entry exports', () => {
  const plugin = dirname(require.resolve('@sessionfs/fastify-session-file/package.json'));
  expect(exportedNames(join(plugin, 'commonjs.d.cts'))).toEqual(
    exportedNames(join(plugin, 'dist/index.d.mts')),
  );
});

/** The names a declaration file exports, as TypeScript sees them (`export =` unfolded). */
function exportedNames(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    noEmit: true,
    types: [],
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`no module in ${file}`);
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => symbol.name)
    .sort();
}

// A whole `tsc` run takes about 7 s alone on 2 cores, and passed 30 s in a CI run that had
// every package's tests going beside it.
const TYPE_CHECK_TIMEOUT_MS = 120_000;

for (const config of ['tsconfig.node16.json', 'tsconfig.node10.json']) {
  it(
    `type-checks as a CommonJS TypeScript project (${config})`,
    async () => {
      const result = await run(process.execPath, [tsc, '-p', config], { cwd: here }).catch(
        (error: { stdout: string }) => error,
      );
      expect(result.stdout).toBe('');
    },
    TYPE_CHECK_TIMEOUT_MS,
  );
}

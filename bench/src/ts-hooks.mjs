// Module hooks for the benchmark's own process: Node 20 cannot strip TypeScript types, and
// `@sessionfs/test-redis-server` (the private helper that starts redis-server for the tests)
// ships TypeScript source that vitest loads directly. `register()` these hooks, then import
// it. Only `.ts` files under a `file:` URL are touched; every other module loads as usual.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export async function load(url, context, nextLoad) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
  const path = fileURLToPath(url);
  const { outputText } = ts.transpileModule(await readFile(path, 'utf8'), {
    fileName: path,
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      inlineSourceMap: true,
    },
  });
  return { format: 'module', source: outputText, shortCircuit: true };
}

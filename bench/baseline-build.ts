import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ModuleKind, ScriptTarget, transpileModule } from 'typescript';

/** bench/baseline-server.ts and the one module of this folder it imports. */
const BASELINE_SOURCES = ['baseline-server.ts', 'page-query.ts'];

/**
 * Transpiles the baseline server to plain JavaScript in a temporary folder, so it runs on bare
 * `node` like the built service (no ts-node hooks in the measured process). Returns the entry file
 * and a function that removes the folder.
 */
export function buildBaseline(): { entry: string; remove: () => void } {
  const folder = mkdtempSync(join(tmpdir(), 'ei-bench-baseline-'));
  for (const source of BASELINE_SOURCES) {
    const { outputText } = transpileModule(readFileSync(resolve(__dirname, source), 'utf8'), {
      compilerOptions: { module: ModuleKind.CommonJS, target: ScriptTarget.ES2023, esModuleInterop: true },
      fileName: source,
    });
    writeFileSync(join(folder, source.replace(/\.ts$/, '.js')), outputText);
  }
  return {
    entry: join(folder, 'baseline-server.js'),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/**
 * The benchmark of the execution items service: `npm run bench` (full) or `npm run bench:smoke`.
 * Loads a dataset with the module's COPY writer, starts the built service and a minimal baseline
 * server, measures page latency, throughput, ingestion, finding requests, the export and the
 * page-query buffers in interleaved rounds (`measure.ts`), then the embedded database (PGlite:
 * generate's speed, the data directory against its tables, the idle service's memory;
 * `embedded.ts`), and writes bench/results/latest.md (smoke: bench/results/smoke.md); then runs
 * the reads-across-runs and follow benches (`reads.ts`, `follow.ts`; settings' `sections`), each
 * with its report. Exits 0 even when a target is missed; non-zero when the bench fails.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { scratchDatabase } from './database';
import { measureEmbedded } from './embedded';
import { closeHttpAgents } from './http-client';
import { measure, prepareData } from './measure';
import { PROJECT_ROOT, installCleanupHandlers, log, runToCompletion, stopAllChildren } from './processes';
import { renderReport, summaryRows, summaryTable, type BenchResult } from './report';
import { benchCredentials, startBaseline, startService, stopTargets } from './servers';
import { loadSettings } from './settings';

/** Writes the report formatted by the project's prettier, so `prettier --check bench` stays clean. */
async function writeReport(result: BenchResult): Promise<void> {
  const path = result.settings.reportPath;
  const options = (await resolveConfig(path)) ?? {};
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, await format(renderReport(result), { ...options, filepath: path }));
  process.stdout.write(`\n${summaryTable(summaryRows(result))}\n\n`);
  log(`report written to ${relative(PROJECT_ROOT, path)}`);
}

async function main(): Promise<void> {
  installCleanupHandlers();
  const settings = loadSettings(process.argv.slice(2));
  log(`execution items benchmark, ${settings.mode} mode, ${settings.rounds} round(s)`);
  const data = await prepareData(settings);
  const credentials = benchCredentials(randomBytes(48).toString('base64url'));
  log('starting the service (node dist/main) and the baseline');
  const targets = await Promise.all([
    startService(data.databaseUrl, credentials),
    startBaseline(data.databaseUrl, credentials),
  ]);
  let measured: Awaited<ReturnType<typeof measure>>;
  try {
    measured = await measure(settings, data, targets, credentials);
  } finally {
    closeHttpAgents();
    await stopTargets(targets);
  }
  // With the servers stopped: the embedded database has the machine to itself.
  const embedded = await measureEmbedded(
    settings.embedded.items,
    settings.embedded.serverToo ? (name) => scratchDatabase(data.databaseUrl, name) : null,
  );
  await writeReport({ settings, finishedAt: new Date(), ...data, ...measured, embedded });
  for (const [section, args] of Object.entries(settings.sections)) {
    log(`bench/${section}.ts ${args.join(' ')}`);
    const output = await runToCompletion(section, process.execPath, [
      '-r',
      'ts-node/register/transpile-only',
      `bench/${section}.ts`,
      ...args,
    ]);
    process.stdout.write(`\n${output}\n`);
  }
}

main()
  .catch((error: unknown) => {
    process.stderr.write(
      `\nbench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  })
  .finally(() => stopAllChildren());

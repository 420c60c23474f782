import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { LOCK_FILE } from '../../src/database/data-dir-lock';
import { openDatabase } from '../../src/database/database-server';
import { buildTypeOrmOptions } from '../../src/database/typeorm-options';

/**
 * Embedded databases for the e2e tests are copies of two data directories made once per run (by
 * the e2e global setup): `blank`, just initialised, and `migrated`, with every migration applied.
 * PGlite's initdb and the migrations take seconds of CPU per database; copying the folder takes a
 * fraction of that. Outside a jest run (no templates) callers fall back to a new database.
 */
export type EmbeddedTemplate = 'blank' | 'migrated';

const TEMPLATES_VARIABLE = 'EXECUTION_ITEMS_TEST_PGLITE_TEMPLATES';

/** Makes both templates in a new folder and names it to the test workers; returns the folder. */
export async function createEmbeddedTemplates(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'ei-templates-'));
  const blank = join(root, 'blank');
  const blankDatabase = await openDatabase({ kind: 'embedded', dataDir: blank });
  await blankDatabase.close();
  const migrated = join(root, 'migrated');
  copyDataDir(blank, migrated);
  const database = await openDatabase({ kind: 'embedded', dataDir: migrated });
  try {
    const dataSource = await new DataSource(buildTypeOrmOptions(database)).initialize();
    await dataSource.runMigrations();
    await dataSource.destroy();
  } finally {
    await database.close();
  }
  process.env[TEMPLATES_VARIABLE] = root;
  return root;
}

export function removeEmbeddedTemplates(): void {
  const root = process.env[TEMPLATES_VARIABLE];
  if (root) rmSync(root, { recursive: true, force: true });
}

/** A new data directory copied from the template, or `null` when this run has no templates. */
export function copyOfTemplate(template: EmbeddedTemplate): string | null {
  const root = process.env[TEMPLATES_VARIABLE];
  if (!root) return null;
  const dataDir = mkdtempSync(join(tmpdir(), `ei-${template}-`));
  copyDataDir(join(root, template), dataDir);
  return dataDir;
}

function copyDataDir(from: string, to: string): void {
  cpSync(from, to, { recursive: true, filter: (source) => !source.endsWith(LOCK_FILE) });
}

import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabase, dropDatabase } from './support/database';
import { ROOT, runRoot, startService, type RunningService } from './support/service';

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
    databaseUrl: string;
    secret: string;
    bigRunId: string;
  }
}

/** Items in the generated run the tests scroll through. */
export const BIG_RUN_ITEMS = Number(process.env.E2E_ITEMS ?? 100_000);

let service: RunningService | null = null;
let database: string | null = null;

/**
 * A fresh database on the PostgreSQL server, the built service on it with the demo data, and a
 * generated run of 100,000 items written through the service's own write path.
 */
export async function setup(project: TestProject): Promise<void> {
  for (const built of ['dist/main.js', 'web/dist/index.html']) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run npm run build first.`);
  }
  database = `ei_e2e_${process.pid}_${randomBytes(3).toString('hex')}`;
  const databaseUrl = await createDatabase(database);
  const secret = randomBytes(32).toString('base64url');
  service = await startService({ DATABASE_URL: databaseUrl, AUTH_JWT_SECRET: secret, DEMO_DATA: 'true' });
  const generated = await runRoot('npm', ['run', '-s', 'generate', '--', '--items', String(BIG_RUN_ITEMS)], { DATABASE_URL: databaseUrl });
  const bigRunId = (JSON.parse(generated.trim().split('\n').pop()!) as { activityId: string }).activityId;
  project.provide('baseUrl', service.url);
  project.provide('databaseUrl', databaseUrl);
  project.provide('secret', secret);
  project.provide('bigRunId', bigRunId);
}

export async function teardown(): Promise<void> {
  await service?.stop();
  if (database) await dropDatabase(database);
}

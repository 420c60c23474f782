/** After each e2e file: its tally of responses checked against the document, for `global-teardown.ts`. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

afterAll(() => {
  const directory = process.env.OPENAPI_CONTRACT_TALLIES;
  if (!directory) return;
  const tally = (globalThis as { openApiContractTally?: Record<string, number> }).openApiContractTally;
  if (tally) writeFileSync(join(directory, `${randomUUID()}.json`), JSON.stringify(tally));
});

/** After the e2e run: how many responses were checked against the OpenAPI document. */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function reportOpenApiContract(): void {
  const directory = process.env.OPENAPI_CONTRACT_TALLIES;
  if (!directory) return;
  const total = { validated: 0, unmatched: 0, failed: 0, otherServers: 0, files: 0 };
  for (const name of readdirSync(directory)) {
    const tally = JSON.parse(readFileSync(join(directory, name), 'utf8')) as Record<string, number>;
    total.validated += tally.validated;
    total.unmatched += tally.unmatched;
    total.failed += tally.failed;
    total.otherServers += tally.otherServers ?? 0;
    total.files += 1;
  }
  process.stdout.write(
    `\nOpenAPI contract: ${total.validated} responses in ${total.files} e2e files validated against the served document` +
      ` (strict nullable); ${total.failed} did not match it; ${total.unmatched} answered a method and path the document does not list;` +
      ` ${total.otherServers} came from hosts the specs build themselves (not checked).\n`,
  );
  rmSync(dirname(directory), { recursive: true, force: true });
}

/**
 * The HTTP servers of the standalone service built by `createTestApp`: the ones whose answers the
 * OpenAPI document describes. A spec's own host (the module in an Express app, say) is not one.
 * Kept on the test file's global object, which the `supertest` wrapper shares.
 */
const key = 'openApiContractServers';

function servers(): WeakSet<object> {
  const global = globalThis as { [key]?: WeakSet<object> };
  global[key] ??= new WeakSet();
  return global[key];
}

export function describedByDocument(server: object): void {
  servers().add(server);
}

export function isDescribedByDocument(server: unknown): boolean {
  return typeof server === 'object' && server !== null && servers().has(server);
}

import { ConfigurableModuleBuilder } from '@nestjs/common';

/** The default byte limit of a batch body: room for 10,000 items of about 3 KiB each. */
export const DEFAULT_INGEST_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

export interface ExecutionItemsModuleOptions {
  /** Page size when the client sends none, or one below 1. Default 25. */
  defaultPageSize?: number;
  /** Larger page sizes are clamped to this. Default 100. */
  maxPageSize?: number;
  /** The role that may read the run history (every `GET` route). Default `Administrator`. */
  requiredRole?: string;
  /**
   * More roles that may read the run history and do nothing else, e.g. a read-only
   * `Synchronisation Readers` role. Default none.
   */
  readerRoles?: string[];
  /**
   * The role a sync engine's credential holds to write runs over HTTP (start, append, complete).
   * It grants no reads, and the reading roles grant no writes. Default `SyncEngine`.
   */
  engineRole?: string;
  /**
   * The token claim holding the caller's roles (a string or an array of strings). Default `role`.
   * A name with dots (`realm_access.roles`) is read as a path when no claim has that exact name.
   */
  roleClaim?: string;
  /**
   * How appends write items: `copy` (COPY FROM STDIN, the fastest; PostgreSQL servers) or `insert`
   * (one INSERT ... SELECT FROM unnest per batch; for PGlite behind pglite-socket, which does not
   * carry COPY). Default `copy`.
   */
  appendMethod?: 'copy' | 'insert';
  /**
   * Whether the hot page statement is prepared (a named statement, planned once per connection).
   * Default `true`; `false` for PGlite behind pglite-socket, whose protocol handling does not
   * recover from an error in a named statement.
   */
  preparedStatements?: boolean;
  /**
   * The host's passport strategies that may authenticate a request to the module's routes, tried
   * in this order; the first that succeeds gives the principal (`request.user`), whose roles
   * `roleClaim` names. A request the host has already authenticated (`request.user` set by a
   * global guard of its own) is not authenticated again. A strategy may also refuse a request
   * outright with an `ApiError` (a 400 for conflicting credentials, a 401 with its own message),
   * which the client receives as it is. With `http` on, the module refuses to start when one of
   * them is not registered. Default `['jwt']`.
   */
  authStrategies?: string[];
  /**
   * The most bytes a batch of items sent to `POST .../items` may have; a larger body is refused
   * with a 413 while it arrives. Default 32 MiB, room for 10,000 items of about 3 KiB.
   */
  ingestBodyLimitBytes?: number;
  /**
   * Following a run (`followItems`, `GET .../items/stream`): how often a follower re-reads the
   * run when no change notice has come, in milliseconds. Notices wake it at once; this is the
   * safety net for a notice that was lost. Default 1000.
   */
  followPollIntervalMs?: number;
  /** The stream's comment line after this many milliseconds without anything sent. Default 15000. */
  followKeepAliveMs?: number;
  /** Streams one principal may hold open at once; one more is a 429. Default 5. */
  followMaxStreamsPerPrincipal?: number;
  /**
   * Hear appends and completions made by other processes through PostgreSQL `LISTEN` on one
   * connection of the module's own (opened with the host's connection settings when the first
   * follower starts). `false` for PGlite behind pglite-socket, which admits one connection: then
   * a follower hears this process's writes at once and others' by polling. Default `true`.
   */
  listenForChanges?: boolean;
  /**
   * Most exports one principal (`request.user.sub`, else the client address) may have running at
   * once; one more is a 429 `TOO_MANY_REQUESTS` with `Retry-After`. Default 2.
   */
  maxConcurrentExportsPerPrincipal?: number;
  /**
   * An export whose client has taken none of the bytes waiting for it for this long is cut off
   * (its connection closed), which frees its place under `maxConcurrentExportsPerPrincipal`.
   * Time the service spends reading the database does not count. Default 30000; 0: never.
   */
  exportWriteIdleTimeoutMs?: number;
  /**
   * Read replicas come from the host's TypeORM data source: the slaves of its `replication`
   * option (give it `defaultMode: 'master'`, so that the host's own reads stay on the primary).
   * The reads that may lag go to a replica that is up: item pages, activity lists and activities,
   * stats, item detail, object history, diff and export. Writes, following a run and the reads
   * of `ExecutionRunsService` stay on the primary. A replica whose replay lags further behind than
   * this many milliseconds is not read from (measured on the replica in the background, every
   * `replicaCheckIntervalMs`). Default 5000.
   */
  replicaMaxLagMs?: number;
  /**
   * How often each replica's state and replay lag are checked, in milliseconds. A replica that
   * fails a read is not read from again until a check succeeds. Default 1000.
   */
  replicaCheckIntervalMs?: number;
}

/**
 * Options given beside `useFactory` (or the options) because they decide what the module is
 * made of, before any factory runs.
 */
export interface ExecutionItemsModuleExtras {
  /**
   * Mount the HTTP routes (`ActivitiesController`, under `api/v1/activities`). `false`: the
   * services alone, for hosts that serve their own API or none. Default `true`.
   */
  http?: boolean;
  /** Make the services injectable in every module of the host, not only in importers. Default `false`. */
  isGlobal?: boolean;
}

export type ResolvedExecutionItemsOptions = Required<ExecutionItemsModuleOptions>;

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN, OPTIONS_TYPE, ASYNC_OPTIONS_TYPE } =
  new ConfigurableModuleBuilder<ExecutionItemsModuleOptions>()
    .setClassMethodName('forRoot')
    .setExtras<ExecutionItemsModuleExtras>({ http: true, isGlobal: false }, (definition, extras) => ({
      ...definition,
      global: extras.isGlobal,
    }))
    .build();

/** Injection token of the options with every default filled in. */
export const EXECUTION_ITEMS_OPTIONS = Symbol('EXECUTION_ITEMS_OPTIONS');

export function resolveOptions(options: ExecutionItemsModuleOptions): ResolvedExecutionItemsOptions {
  const resolved = {
    defaultPageSize: options.defaultPageSize ?? 25,
    maxPageSize: options.maxPageSize ?? 100,
    requiredRole: options.requiredRole ?? 'Administrator',
    readerRoles: [...(options.readerRoles ?? [])],
    engineRole: options.engineRole ?? 'SyncEngine',
    roleClaim: options.roleClaim ?? 'role',
    appendMethod: options.appendMethod ?? 'copy',
    preparedStatements: options.preparedStatements ?? true,
    authStrategies: [...(options.authStrategies ?? ['jwt'])],
    ingestBodyLimitBytes: options.ingestBodyLimitBytes ?? DEFAULT_INGEST_BODY_LIMIT_BYTES,
    followPollIntervalMs: options.followPollIntervalMs ?? 1000,
    followKeepAliveMs: options.followKeepAliveMs ?? 15_000,
    followMaxStreamsPerPrincipal: options.followMaxStreamsPerPrincipal ?? 5,
    listenForChanges: options.listenForChanges ?? true,
    maxConcurrentExportsPerPrincipal: options.maxConcurrentExportsPerPrincipal ?? 2,
    exportWriteIdleTimeoutMs: options.exportWriteIdleTimeoutMs ?? 30_000,
    replicaMaxLagMs: options.replicaMaxLagMs ?? 5_000,
    replicaCheckIntervalMs: options.replicaCheckIntervalMs ?? 1_000,
  };
  const { defaultPageSize, maxPageSize } = resolved;
  if (!Number.isSafeInteger(maxPageSize) || maxPageSize < 1) {
    throw new Error(`ExecutionItemsModule: maxPageSize must be a positive integer, got ${maxPageSize}`);
  }
  if (!Number.isSafeInteger(defaultPageSize) || defaultPageSize < 1 || defaultPageSize > maxPageSize) {
    throw new Error(
      `ExecutionItemsModule: defaultPageSize must be an integer from 1 to maxPageSize, got ${defaultPageSize}`,
    );
  }
  if (resolved.appendMethod !== 'copy' && resolved.appendMethod !== 'insert') {
    throw new Error(
      `ExecutionItemsModule: appendMethod must be 'copy' or 'insert', got ${String(resolved.appendMethod)}`,
    );
  }
  if (!Number.isSafeInteger(resolved.ingestBodyLimitBytes) || resolved.ingestBodyLimitBytes < 1) {
    throw new Error(
      `ExecutionItemsModule: ingestBodyLimitBytes must be a positive integer, got ${resolved.ingestBodyLimitBytes}`,
    );
  }
  for (const key of ['followPollIntervalMs', 'followKeepAliveMs', 'followMaxStreamsPerPrincipal'] as const) {
    if (!Number.isSafeInteger(resolved[key]) || resolved[key] < 1) {
      throw new Error(`ExecutionItemsModule: ${key} must be a positive integer, got ${resolved[key]}`);
    }
  }
  const { maxConcurrentExportsPerPrincipal: maxExports, exportWriteIdleTimeoutMs: idleMs } = resolved;
  if (!Number.isSafeInteger(maxExports) || maxExports < 1) {
    throw new Error(
      `ExecutionItemsModule: maxConcurrentExportsPerPrincipal must be a positive integer, got ${maxExports}`,
    );
  }
  if (!Number.isSafeInteger(idleMs) || idleMs < 0) {
    throw new Error(
      `ExecutionItemsModule: exportWriteIdleTimeoutMs must be 0 or more milliseconds, got ${idleMs}`,
    );
  }
  if (!Number.isSafeInteger(resolved.replicaMaxLagMs) || resolved.replicaMaxLagMs < 0) {
    throw new Error(
      `ExecutionItemsModule: replicaMaxLagMs must be 0 or more milliseconds, got ${resolved.replicaMaxLagMs}`,
    );
  }
  if (!Number.isSafeInteger(resolved.replicaCheckIntervalMs) || resolved.replicaCheckIntervalMs < 1) {
    throw new Error(
      `ExecutionItemsModule: replicaCheckIntervalMs must be a positive integer, got ${resolved.replicaCheckIntervalMs}`,
    );
  }
  const { authStrategies } = resolved;
  if (
    authStrategies.length === 0 ||
    authStrategies.some((name) => typeof name !== 'string' || !name) ||
    new Set(authStrategies).size !== authStrategies.length
  ) {
    throw new Error(
      `ExecutionItemsModule: authStrategies must be distinct passport strategy names, at least one, got ${JSON.stringify(authStrategies)}`,
    );
  }
  if (!resolved.requiredRole || !resolved.roleClaim || !resolved.engineRole) {
    throw new Error('ExecutionItemsModule: requiredRole, engineRole and roleClaim must not be empty');
  }
  const { readerRoles, engineRole } = resolved;
  if (readerRoles.some((role) => typeof role !== 'string' || !role)) {
    throw new Error(
      `ExecutionItemsModule: readerRoles must be non-empty role names, got ${JSON.stringify(readerRoles)}`,
    );
  }
  if (engineRole === resolved.requiredRole || readerRoles.includes(engineRole)) {
    throw new Error(
      `ExecutionItemsModule: engineRole ${engineRole} must not also be a reading role; writing and reading are separate rights`,
    );
  }
  return resolved;
}

import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from './execution-items.options';
import { isDatabaseUnavailable } from './http/database-errors';

/** How a replica stands: read from (`up`), too far behind (`lagging`) or not answering (`down`). */
export type ReplicaState = 'up' | 'lagging' | 'down';

/** One replica as the last check (or a failed read) found it. */
export interface ReplicaStatus {
  /** `host:port/database`, without credentials. */
  server: string;
  state: ReplicaState;
  /** The replay lag the last check measured, in milliseconds; `null` when down or not measurable. */
  lagMs: number | null;
}

/** A statement: its text, or (to name it, a prepared statement) its text, values and name. */
export type ReadStatement = string | { text: string; values?: unknown[]; name?: string };

/** What a read runs its statements on: a replica's pool, or the primary's (`pg` underneath). */
export interface ReadPool {
  /**
   * One statement on a pooled connection, given back after it as TypeORM's query runner does:
   * kept when the server refused the statement (pg's own `Pool.query` would close it, and the
   * embedded database's socket server does not take that well), closed when the connection failed.
   */
  query<R>(statement: ReadStatement, values?: unknown[]): Promise<{ rows: R[] }>;
  /** A connection of the read's own, for a transaction; the caller releases it. */
  connect(): Promise<ReadClient>;
}

/** A pooled connection held for a transaction: `release()` gives it back, `release(error)` closes it. */
export interface ReadClient {
  query<R>(statement: ReadStatement, values?: unknown[]): Promise<{ rows: R[] }>;
  release(error?: Error): void;
}

/** Reads on one server: see `ReadConnections.session`. */
export interface ReadSession {
  read<T>(work: (pool: ReadPool) => Promise<T>): Promise<T>;
}

/**
 * The replica's replay lag in milliseconds, measured on the replica: 0 on a server that is not a
 * standby, and on a standby that is streaming and has replayed all it received (an idle primary
 * sends nothing, so the time since the last replayed commit would grow without any lag; and a
 * standby started again has no last replayed commit until the primary commits, while its replay
 * may start ahead of the point its receiver asked the primary for); else the time since the last
 * replayed commit, `null` before the first one. A standby that is not streaming (its primary is
 * gone) cannot show it is current, so it is measured by that time too.
 */
const LAG_SQL = `SELECT CASE
         WHEN NOT pg_is_in_recovery() THEN 0
         WHEN pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()
              AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming') THEN 0
         ELSE floor(extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8
       END AS lag_ms`;

interface Replica extends ReplicaStatus {
  /** The replica's place in the driver's `slaves` (and in `replication.slaves`). */
  index: number;
  /** Whether a check has answered yet: until then it is not read from, and its first state is logged. */
  checked: boolean;
}

/**
 * Where the module's reads run. Reads that may lag (pages, lists, stats, item detail, object
 * history, diff, export) go to a replica of the host's data source (TypeORM `replication.slaves`)
 * that is up and within `replicaMaxLagMs`, in turn; without one, to the primary. A replica that
 * cannot be reached during a read is marked down and the read runs again on the primary, so a
 * replica going away fails no request; one whose replay cancelled the statement (a recovery
 * conflict) has the read run again on the primary too. Reads that must see the latest writes
 * (`primary`) go to the primary.
 *
 * Each replica's state and lag are checked in the background every `replicaCheckIntervalMs`
 * (and once before the application starts serving), never on a request's path.
 */
@Injectable()
export class ReadConnections implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('ReadReplicas');
  private replicas: Replica[] = [];
  private turn = 0;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const slaves = (this.dataSource.options as PostgresDataSourceOptions).replication?.slaves ?? [];
    this.replicas = slaves.map((credentials, index) => ({
      index,
      server: describeServer(credentials),
      state: 'down',
      lagMs: null,
      checked: false,
    }));
    if (this.replicas.length === 0) return;
    await this.checkAll();
    this.schedule();
  }

  /** The checks stop before the host closes its pools (a read that fails still marks its replica down). */
  beforeApplicationShutdown(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The replicas and their states, for a readiness report; empty without replicas. */
  report(): ReplicaStatus[] {
    return this.replicas.map(({ server, state, lagMs }) => ({ server, state, lagMs }));
  }

  /** Runs a read that may lag by up to `replicaMaxLagMs` on a replica, or else on the primary. */
  read<T>(work: (pool: ReadPool) => Promise<T>): Promise<T> {
    return this.session().read(work);
  }

  /** Runs a read on the primary: one that must see every committed write. */
  primary<T>(work: (pool: ReadPool) => Promise<T>): Promise<T> {
    return work(this.primaryPool());
  }

  /**
   * Reads that must all see one server's data, such as an export's batches (a later batch on a
   * replica further behind could miss items the first saw): on one replica while it is up, else
   * on the primary from then on, which is never behind. When the replica fails a read for want
   * of the replica, the read runs again on the primary.
   */
  session(): ReadSession {
    const up = this.replicas.filter((replica) => replica.state === 'up');
    let replica = up.length > 0 ? up[(this.turn = (this.turn + 1) % up.length)] : null;
    return {
      read: async (work) => {
        const pool = replica && this.poolOf(replica);
        if (!replica || !pool) {
          replica = null;
          return work(this.primaryPool());
        }
        try {
          return await work(pool);
        } catch (error) {
          const failure = replicaFailure(error);
          if (!failure) throw error;
          if (failure === 'unavailable') this.update(replica, 'down', null, error);
          replica = null;
          return work(this.primaryPool());
        }
      },
    };
  }

  /** The pool of `replica`, or `null` when it is not one to read from now. */
  private poolOf(replica: Replica): ReadPool | null {
    const pool = this.slavePool(replica);
    return replica.state === 'up' && pool ? pool : null;
  }

  private slavePool(replica: Replica): ReadPool | undefined {
    const pool = (this.dataSource.driver as PostgresDriver).slaves[replica.index] as Pool | undefined;
    return pool && readPool(pool);
  }

  private primaryPool(): ReadPool {
    return readPool((this.dataSource.driver as PostgresDriver).master as Pool);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.checkAll().finally(() => this.schedule());
    }, this.options.replicaCheckIntervalMs);
    this.timer.unref();
  }

  private async checkAll(): Promise<void> {
    await Promise.all(this.replicas.map((replica) => this.check(replica)));
  }

  private async check(replica: Replica): Promise<void> {
    const pool = this.slavePool(replica);
    try {
      if (!pool) throw new Error('the data source is closed');
      const { rows } = await pool.query<{ lag_ms: number | null }>(LAG_SQL);
      const lagMs = rows[0].lag_ms === null ? null : Math.round(rows[0].lag_ms);
      const within = lagMs !== null && lagMs <= this.options.replicaMaxLagMs;
      this.update(replica, within ? 'up' : 'lagging', lagMs);
    } catch (error) {
      if (!this.stopped) this.update(replica, 'down', null, error);
    }
  }

  private update(replica: Replica, state: ReplicaState, lagMs: number | null, error?: unknown): void {
    const changed = !replica.checked || state !== replica.state;
    replica.state = state;
    replica.lagMs = lagMs;
    replica.checked = true;
    if (!changed) return;
    const name = `Read replica ${replica.server}`;
    if (state === 'up') {
      this.logger.log(`${name} is up (replay lag ${lagMs} ms); reading from it`);
    } else if (state === 'lagging') {
      this.logger.warn(
        `${name} is lagging (${lagMs === null ? 'nothing replayed yet' : `replay lag ${lagMs} ms`}, more than ${this.options.replicaMaxLagMs} ms); reading from the primary until it catches up`,
      );
    } else {
      this.logger.warn(
        `${name} is down (${error instanceof Error ? error.message : String(error)}); reading from the primary until it answers`,
      );
    }
  }
}

/**
 * `pool` as reads use it. A connection that fails while checked out emits `error` besides failing
 * its statement, and pg's pool listens only while the connection is idle: without a listener of
 * our own the event would end the process. So one is there for as long as the read holds it, as
 * TypeORM's query runner does, and a connection that failed is closed rather than given back.
 */
function readPool(pool: Pool): ReadPool {
  const connect = async (): Promise<ReadClient> => {
    const client = await pool.connect();
    let failed: Error | undefined;
    const onError = (error: Error) => (failed = error);
    client.on('error', onError);
    return {
      query: async <R>(statement: ReadStatement, values?: unknown[]) => {
        const { rows } = await client.query(statement, values);
        return { rows: rows as R[] };
      },
      release: (error?: Error) => {
        client.removeListener('error', onError);
        client.release(error ?? failed);
      },
    };
  };
  return {
    query: async <R>(statement: ReadStatement, values?: unknown[]) => {
      const client = await connect();
      try {
        return await client.query<R>(statement, values);
      } finally {
        client.release();
      }
    },
    connect,
  };
}

/**
 * Whether a read failed because of the replica, so that the primary may well answer it: the
 * replica cannot be reached, is shutting down or is out of connections (`unavailable`), or replay
 * cancelled the statement (`conflict`: SQLSTATE 40001 or 40P01, "conflict with recovery"). A
 * statement timeout is not retried: the primary would take as long.
 */
export function replicaFailure(error: unknown): 'unavailable' | 'conflict' | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === '40001' || code === '40P01') return 'conflict';
  if (code === '57014') return null;
  return isDatabaseUnavailable(error) ? 'unavailable' : null;
}

/** `host:port/database` of a replica's credentials (TypeORM's), never its user or password. */
export function describeServer(credentials: {
  url?: string;
  host?: string;
  port?: number;
  database?: string;
}): string {
  if (credentials.url) {
    try {
      const url = new URL(credentials.url);
      return `${url.hostname || 'localhost'}:${url.port || 5432}${url.pathname}`;
    } catch {
      return 'a replica (its URL does not parse)';
    }
  }
  return `${credentials.host ?? 'localhost'}:${credentials.port ?? 5432}/${credentials.database ?? ''}`;
}

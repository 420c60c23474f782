import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { setMaxListeners } from 'node:events';
import { Client, type ClientConfig, type Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { EXECUTION_ITEMS_OPTIONS, type ResolvedExecutionItemsOptions } from './execution-items.options';

/** The PostgreSQL channel on which writers announce a run's change; the payload is the activity id. */
export const RUN_CHANGED_CHANNEL = 'execution_items_run_changed';

/** Milliseconds between attempts to reopen a lost listening connection. */
const RELISTEN_DELAY_MS = 1_000;

/** Anything that runs SQL: an entity manager inside a transaction, or the data source. */
interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Who is told when a run changes. Writers announce each append and completion (`announce` inside
 * their transaction, so PostgreSQL delivers the notice at commit, to every process; `changed`
 * after the commit, for this process). Followers `subscribe` to a run and are woken to re-read it.
 * A notice carries nothing but the run's id: a follower always reads what is committed, so a
 * notice lost or doubled costs a late or an extra read, never a wrong one.
 *
 * With `listenForChanges` on, one connection of the module's own, opened when the first follower
 * subscribes, `LISTEN`s for every process's notices (this one's included); it is reopened when
 * lost, and while it is down this process's writes wake their followers directly.
 */
@Injectable()
export class RunNotices implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('RunNotices');
  private readonly subscribers = new Map<string, Set<() => void>>();
  private readonly stopping = new AbortController();
  private listener: Client | null = null;
  /** True while `listener` holds a working LISTEN: then it delivers this process's notices too. */
  private listening = false;
  private relisten: NodeJS.Timeout | null = null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(EXECUTION_ITEMS_OPTIONS) private readonly options: ResolvedExecutionItemsOptions,
  ) {
    // Every follower listens for the shutdown: any number of them is expected.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Aborted when the application begins to shut down: followers end then. */
  get shutdownSignal(): AbortSignal {
    return this.stopping.signal;
  }

  /** Followers subscribed now, over all runs (for tests and diagnostics). */
  get subscriberCount(): number {
    let count = 0;
    for (const callbacks of this.subscribers.values()) count += callbacks.size;
    return count;
  }

  /** Whether the listening connection is up (for tests and diagnostics). */
  get isListening(): boolean {
    return this.listening;
  }

  /** Queues a notice of the run's change in the caller's transaction; PostgreSQL sends it at commit. */
  async announce(queryable: Queryable, activityId: string): Promise<void> {
    await queryable.query(`SELECT pg_notify('${RUN_CHANGED_CHANNEL}', $1)`, [activityId.toLowerCase()]);
  }

  /** After a write has committed: wakes this process's followers, unless the listener will. */
  changed(activityId: string): void {
    if (!this.listening) this.wake(activityId.toLowerCase());
  }

  /** Calls `onChange` whenever the run may have changed; returns the unsubscribe function. */
  subscribe(activityId: string, onChange: () => void): () => void {
    const key = activityId.toLowerCase();
    let callbacks = this.subscribers.get(key);
    if (!callbacks) this.subscribers.set(key, (callbacks = new Set()));
    // A function of its own per subscription, so that subscribing one callback twice counts twice.
    const callback = () => onChange();
    callbacks.add(callback);
    this.startListening();
    return () => {
      callbacks.delete(callback);
      if (callbacks.size === 0 && this.subscribers.get(key) === callbacks) this.subscribers.delete(key);
    };
  }

  beforeApplicationShutdown(): void {
    this.stopping.abort();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping.abort();
    if (this.relisten) clearTimeout(this.relisten);
    this.relisten = null;
    const listener = this.listener;
    this.listener = null;
    this.listening = false;
    await listener?.end().catch(() => undefined);
  }

  private wake(activityId: string): void {
    for (const callback of this.subscribers.get(activityId) ?? []) callback();
  }

  private wakeAll(): void {
    for (const callbacks of this.subscribers.values()) for (const callback of callbacks) callback();
  }

  private startListening(): void {
    if (!this.options.listenForChanges || this.listener || this.relisten || this.stopping.signal.aborted) {
      return;
    }
    const client = new Client({ ...this.connectionConfig(), keepAlive: true });
    this.listener = client;
    client.on('notification', ({ channel, payload }) => {
      if (channel === RUN_CHANGED_CHANNEL && payload) this.wake(payload);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client));
    client
      .connect()
      .then(() => client.query(`LISTEN ${RUN_CHANGED_CHANNEL}`))
      .then(
        () => {
          if (this.listener !== client) return;
          this.listening = true;
          // Notices sent while no one listened are gone: every follower reads once more.
          this.wakeAll();
        },
        (error: unknown) => this.lost(client, error),
      );
  }

  /** The listening connection failed: followers poll until it is back. */
  private lost(client: Client, error?: unknown): void {
    if (this.listener !== client) return;
    this.listener = null;
    this.listening = false;
    void client.end().catch(() => undefined);
    if (this.stopping.signal.aborted) return;
    this.logger.warn(
      `Listening for run changes stopped (${error instanceof Error ? error.message : 'connection ended'}); followers poll until it is back`,
    );
    this.relisten = setTimeout(() => {
      this.relisten = null;
      if (this.subscribers.size > 0) this.startListening();
    }, RELISTEN_DELAY_MS);
    this.relisten.unref();
  }

  /** The host's connection settings, as its pool was given them. */
  private connectionConfig(): ClientConfig {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool & { options: ClientConfig };
    const { statement_timeout: _timeout, ...config } = pool.options;
    return { ...config, application_name: 'execution-items-listener' };
  }
}

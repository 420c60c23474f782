import { Module, type DynamicModule } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  EXECUTION_ITEMS_ENTITIES,
  EXECUTION_ITEMS_MIGRATIONS,
  ExecutionItemsModule,
} from '@identity-sync/execution-items';
import { HostTokenStrategy } from './host-token.strategy';
import { SyncEngine } from './sync-engine';

export interface HostOptions {
  databaseUrl: string;
  /** The embedded PGlite behind pglite-socket: no COPY, no named statements. */
  embedded: boolean;
  /** Mount the module's routes (`/api/v1/activities`). */
  http: boolean;
  /** The secret of the host's bearer tokens; without one, no strategy is registered. */
  tokenSecret?: string;
}

/** A host backend: it owns the connection and the authentication; the module is its guest. */
@Module({})
export class HostModule {
  static forRoot(options: HostOptions): DynamicModule {
    return {
      module: HostModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: options.databaseUrl,
          entities: [...EXECUTION_ITEMS_ENTITIES],
          migrations: [...EXECUTION_ITEMS_MIGRATIONS],
          migrationsRun: true,
          migrationsTransactionMode: 'each',
          extra: { max: options.embedded ? 1 : 5 },
        }),
        PassportModule,
        ExecutionItemsModule.forRoot({
          http: options.http,
          authStrategies: ['host-token'],
          roleClaim: 'groups',
          requiredRole: 'RunHistoryReaders',
          appendMethod: options.embedded ? 'insert' : 'copy',
          preparedStatements: !options.embedded,
        }),
      ],
      providers: [
        SyncEngine,
        ...(options.tokenSecret
          ? [{ provide: HostTokenStrategy, useFactory: () => new HostTokenStrategy(options.tokenSecret!) }]
          : []),
      ],
      exports: [SyncEngine],
    };
  }
}

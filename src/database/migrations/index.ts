import type { MigrationInterface, QueryRunner } from 'typeorm';
import { InitialSchema1795812407420 } from './1795812407420-InitialSchema';
import { ItemQueries1795820336807 } from './1795820336807-ItemQueries';
import { AppendBatches1795821109259 } from './1795821109259-AppendBatches';
import { ApiKeys1795821298159 } from './1795821298159-ApiKeys';

type MigrationClass = new () => MigrationInterface;

/**
 * A migration with the app's `statement_timeout` lifted for its own transaction (migrations run
 * one transaction each): building an index over millions of rows takes longer than any request.
 */
function withoutStatementTimeout(Migration: MigrationClass): MigrationClass {
  return class extends Migration {
    override async up(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('SET LOCAL statement_timeout = 0');
      await super.up(queryRunner);
    }

    override async down(queryRunner: QueryRunner): Promise<void> {
      await queryRunner.query('SET LOCAL statement_timeout = 0');
      await super.down(queryRunner);
    }
  };
}

/**
 * The execution-items module's own schema, oldest first: what a host that imports the module
 * runs (exported as `EXECUTION_ITEMS_MIGRATIONS`).
 */
export const EXECUTION_ITEMS_MIGRATIONS = [
  InitialSchema1795812407420,
  ItemQueries1795820336807,
  AppendBatches1795821109259,
].map(withoutStatementTimeout);

/**
 * Every migration of the standalone service, oldest first: the module's and the app's own (API
 * keys). A new migration is added here as well as in this folder.
 */
export const MIGRATIONS = [
  ...EXECUTION_ITEMS_MIGRATIONS,
  ...[ApiKeys1795821298159].map(withoutStatementTimeout),
];

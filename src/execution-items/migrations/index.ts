import type { MigrationInterface, QueryRunner } from 'typeorm';
import { InitialSchema1795812407420 } from './1795812407420-InitialSchema';
import { ItemQueries1795820336807 } from './1795820336807-ItemQueries';
import { AppendBatches1795821109259 } from './1795821109259-AppendBatches';
import { RunReads1795985974621 } from './1795985974621-RunReads';
import { StoredDiffs1796004216532 } from './1796004216532-StoredDiffs';
import { LeanItemIndexes1796008520525 } from './1796008520525-LeanItemIndexes';

type MigrationClass = new () => MigrationInterface;

/**
 * A migration with the connection's `statement_timeout` lifted for its own transaction (run
 * migrations with `migrationsTransactionMode: 'each'`): building an index over millions of rows
 * takes longer than any request.
 */
export function withoutStatementTimeout(Migration: MigrationClass): MigrationClass {
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
 * The module's schema, oldest first: a host runs these on its connection (TypeORM's `migrations`
 * option, beside its own), and adds new ones from each release of the module.
 */
export const EXECUTION_ITEMS_MIGRATIONS = [
  InitialSchema1795812407420,
  ItemQueries1795820336807,
  AppendBatches1795821109259,
  RunReads1795985974621,
  StoredDiffs1796004216532,
  LeanItemIndexes1796008520525,
].map(withoutStatementTimeout);

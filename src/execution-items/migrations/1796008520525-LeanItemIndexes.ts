import { MigrationInterface, QueryRunner } from 'typeorm';

/** The list columns the (activity_id, sequence) key carried before this migration. */
const LIST_COLUMNS =
  '"id", "external_id_value", "display_name", "object_type", "object_change_type", "error_type", "outcome_summary"';

/**
 * The filter and sort indexes of ItemQueries, keyed by `uuid_hash(activity_id)` (4 bytes) instead
 * of `activity_id` (16 bytes): name, then key columns after the run.
 */
const RUN_KEYED_INDEXES: Array<[name: string, keys: string]> = [
  ['execution_items_change_type_idx', '"object_change_type", "sequence"'],
  ['execution_items_object_type_idx', `(coalesce("object_type", '') COLLATE "C"), "sequence"`],
  ['execution_items_display_name_sort_idx', `(coalesce(lower("display_name"), '') COLLATE "C"), "sequence"`],
  [
    'execution_items_external_id_sort_idx',
    `(coalesce(lower("external_id_value"), '') COLLATE "C"), "sequence"`,
  ],
];

/** The errorType order's index before this migration. */
const ERROR_TYPE_SORT_INDEX = `CREATE INDEX "execution_items_error_type_sort_idx" ON "execution_items" ("activity_id", ("error_type" IS NULL), (coalesce("error_type", 'AmbiguousMatch')), "sequence")`;

/**
 * Storage per item. Runs written at the same time insert into the middle of every index led by
 * the run, where a full B-tree leaf splits 50/50, and the left half is never written again: such
 * indexes stay about half full. PostgreSQL splits such a leaf near its end instead ("split after
 * new tuple") only when the leaf's tuples are all the same width and at most 16 bytes of data
 * (two int8s), which `activity_id` (a uuid) alone fills.
 *
 * - The (activity_id, sequence) unique key no longer INCLUDEs the list columns: it was the
 *   largest index (about 225 bytes per item at 51% leaf density). A page by sequence reads its
 *   rows from the heap, where a run's items lie together in the order they were appended.
 * - The filter and sort indexes lead with `uuid_hash(activity_id)`, an int4: narrower tuples, and
 *   those with fixed-width keys (change type, object type, error type) qualify for the split
 *   above and stay about 90% full. Two runs may share a hash value, so every query that uses
 *   them also compares `activity_id` itself (`item-sql.ts`, `runConditions`). Extended
 *   statistics tell the planner that the two conditions select the same rows: estimated as
 *   independent, they would make a run look 1/n of its size (n runs), and the planner would
 *   sort a run's matches rather than read them in index order.
 * - `sortBy=errorType` has no index of its own any more: the items with an error (about 1%)
 *   come in order from `execution_items_error_type_idx`, the others from the (activity_id,
 *   sequence) key (`item-sql.ts`, `sortParts`).
 */
export class LeanItemIndexes1796008520525 implements MigrationInterface {
  name = 'LeanItemIndexes1796008520525';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "execution_items" DROP CONSTRAINT "execution_items_activity_sequence_key"`,
    );
    await queryRunner.query(
      `ALTER TABLE "execution_items" ADD CONSTRAINT "execution_items_activity_sequence_key" UNIQUE ("activity_id", "sequence")`,
    );
    await queryRunner.query(
      `CREATE STATISTICS "public"."execution_items_run_key_stats" (dependencies) ON "activity_id", (uuid_hash("activity_id")) FROM "execution_items"`,
    );
    await queryRunner.query(`DROP INDEX "public"."execution_items_error_type_sort_idx"`);
    for (const [name, keys] of RUN_KEYED_INDEXES) {
      await queryRunner.query(`DROP INDEX "public"."${name}"`);
      await queryRunner.query(
        `CREATE INDEX "${name}" ON "execution_items" ((uuid_hash("activity_id")), ${keys})`,
      );
    }
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const [name, keys] of RUN_KEYED_INDEXES) {
      await queryRunner.query(`DROP INDEX "public"."${name}"`);
      await queryRunner.query(`CREATE INDEX "${name}" ON "execution_items" ("activity_id", ${keys})`);
    }
    await queryRunner.query(ERROR_TYPE_SORT_INDEX);
    await queryRunner.query(`DROP STATISTICS "public"."execution_items_run_key_stats"`);
    await queryRunner.query(
      `ALTER TABLE "execution_items" DROP CONSTRAINT "execution_items_activity_sequence_key"`,
    );
    await queryRunner.query(
      `ALTER TABLE "execution_items" ADD CONSTRAINT "execution_items_activity_sequence_key" UNIQUE ("activity_id", "sequence") INCLUDE (${LIST_COLUMNS})`,
    );
  }
}

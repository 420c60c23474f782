import { MigrationInterface, QueryRunner } from 'typeorm';

/** The list columns every covering index carries, so that a page needs no heap visit. */
const LIST_COLUMNS =
  '"id", "external_id_value", "display_name", "object_type", "object_change_type", "error_type", "outcome_summary"';

/**
 * What filtering, searching and sorting a run's items needs at index speed: the distinct outcome
 * types of each item as an array, and one index per filter and sort key, each led by
 * `activity_id` so that it only ever reads one run's part.
 */
export class ItemQueries1795820336807 implements MigrationInterface {
  name = 'ItemQueries1795820336807';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // Trusted extensions (PostgreSQL 13+): the database owner may create them. PGlite loads both.
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS btree_gin`);

    await queryRunner.query(
      `ALTER TABLE "execution_items" ADD "outcome_types" text array NOT NULL DEFAULT '{}'`,
    );
    await queryRunner.query(
      `UPDATE "execution_items"
          SET "outcome_types" = ARRAY(SELECT DISTINCT t #>> '{}' FROM jsonb_path_query("outcomes", 'lax $.**.type') AS t)
        WHERE "outcomes" <> '[]'::jsonb`,
    );

    // hasError=true, in sequence order: a small partial index (errors are a few percent).
    await queryRunner.query(
      `CREATE INDEX "execution_items_errors_idx" ON "execution_items" ("activity_id", "sequence") INCLUDE (${LIST_COLUMNS}) WHERE "error_type" IS NOT NULL`,
    );
    // errorType=X, in sequence order.
    await queryRunner.query(
      `CREATE INDEX "execution_items_error_type_idx" ON "execution_items" ("activity_id", "error_type", "sequence") INCLUDE (${LIST_COLUMNS}) WHERE "error_type" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "execution_items_change_type_idx" ON "execution_items" ("activity_id", "object_change_type", "sequence")`,
    );
    // The sort keys are never null, so a cursor is one row comparison on the index. The object
    // type key also serves the objectType filter.
    await queryRunner.query(
      `CREATE INDEX "execution_items_object_type_idx" ON "execution_items" ("activity_id", (coalesce("object_type", '') COLLATE "C"), "sequence")`,
    );
    await queryRunner.query(
      `CREATE INDEX "execution_items_display_name_sort_idx" ON "execution_items" ("activity_id", (coalesce(lower("display_name"), '') COLLATE "C"), "sequence")`,
    );
    await queryRunner.query(
      `CREATE INDEX "execution_items_external_id_sort_idx" ON "execution_items" ("activity_id", (coalesce(lower("external_id_value"), '') COLLATE "C"), "sequence")`,
    );
    await queryRunner.query(
      `CREATE INDEX "execution_items_error_type_sort_idx" ON "execution_items" ("activity_id", ("error_type" IS NULL), (coalesce("error_type", 'AmbiguousMatch')), "sequence")`,
    );
    // outcomeType: array containment within one run (btree_gin supplies the uuid part).
    // Both GIN indexes keep a small pending list (512 kB, not the 4 MB default): new entries are
    // merged in batches, which keeps appends fast, and a search, which reads the list as well,
    // never reads more than that, even where autovacuum does not run.
    await queryRunner.query(
      `CREATE INDEX "execution_items_outcome_types_idx" ON "execution_items" USING gin ("activity_id", "outcome_types") WITH (gin_pending_list_limit = 512)`,
    );
    // search: trigrams of the display name and external id within one run, not over the table.
    await queryRunner.query(
      `CREATE INDEX "execution_items_search_idx" ON "execution_items" USING gin ("activity_id", "display_name" gin_trgm_ops, "external_id_value" gin_trgm_ops) WITH (gin_pending_list_limit = 512)`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of [
      'execution_items_search_idx',
      'execution_items_outcome_types_idx',
      'execution_items_error_type_sort_idx',
      'execution_items_external_id_sort_idx',
      'execution_items_display_name_sort_idx',
      'execution_items_object_type_idx',
      'execution_items_change_type_idx',
      'execution_items_error_type_idx',
      'execution_items_errors_idx',
    ]) {
      await queryRunner.query(`DROP INDEX "public"."${index}"`);
    }
    await queryRunner.query(`ALTER TABLE "execution_items" DROP COLUMN "outcome_types"`);
    // The extensions stay: other objects in the database may use them.
  }
}

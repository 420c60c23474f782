import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What finding runs, comparing two runs and following one object across runs need at index
 * speed. Activities: one index per filter of the list, each ending in (created, id) so that the
 * newest-first order and the cursor's row comparison come from the index. Items: two indexes
 * across runs, by external id and by lower-cased display name; the first also ends in
 * (activity_id, sequence), so a diff's lookup of one object in the other run is one index probe.
 */
export class RunReads1795985974621 implements MigrationInterface {
  name = 'RunReads1795985974621';

  public async up(queryRunner: QueryRunner): Promise<void> {
    // connectedSystemName, with runProfileName and runType; and a run's baseline (the latest
    // earlier run of the same system, profile and type).
    await queryRunner.query(
      `CREATE INDEX "activities_run_profile_idx" ON "activities" ("target_context", "target_name", "run_type", "created", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "activities_target_name_idx" ON "activities" ("target_name", "created", "id")`,
    );
    await queryRunner.query(
      `CREATE INDEX "activities_run_type_idx" ON "activities" ("run_type", "created", "id")`,
    );
    // hasErrors=true: runs with errors are the ones looked for.
    await queryRunner.query(
      `CREATE INDEX "activities_with_errors_idx" ON "activities" ("created", "id") WHERE "error_item_count" > 0`,
    );
    // One object across runs, and a diff's probe of one object in the other run.
    await queryRunner.query(
      `CREATE INDEX "execution_items_object_idx" ON "execution_items" ("external_id_value", "activity_id", "sequence") WHERE "external_id_value" IS NOT NULL`,
    );
    await queryRunner.query(
      `CREATE INDEX "execution_items_object_name_idx" ON "execution_items" (lower("display_name")) WHERE "display_name" IS NOT NULL`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    for (const index of [
      'execution_items_object_name_idx',
      'execution_items_object_idx',
      'activities_with_errors_idx',
      'activities_run_type_idx',
      'activities_target_name_idx',
      'activities_run_profile_idx',
    ]) {
      await queryRunner.query(`DROP INDEX "public"."${index}"`);
    }
  }
}

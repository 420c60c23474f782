import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The stored diffs: a run's diff against its default baseline (the previous ended run of the same
 * connected system, run profile and run type), written once both runs have ended, since it never
 * changes after. `run_diffs` holds one per run, with the baseline it was computed against and the
 * objects per change; `run_diff_rows` its rows, keyed in the order the diff is paged (change, then
 * external id by code point), so a page is an index range and the counts one row. Either run
 * being deleted (retention purges either) deletes the diff, and its rows with it.
 */
export class StoredDiffs1796004216532 implements MigrationInterface {
  name = 'StoredDiffs1796004216532';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "run_diffs" ("run_id" uuid NOT NULL, "baseline_id" uuid NOT NULL, "counts" integer array NOT NULL, "stored" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "run_diffs_pkey" PRIMARY KEY ("run_id"))`,
    );
    // A baseline's deletion finds the diffs made against it.
    await queryRunner.query(`CREATE INDEX "run_diffs_baseline_id_idx" ON "run_diffs" ("baseline_id") `);
    await queryRunner.query(
      `ALTER TABLE "run_diffs" ADD CONSTRAINT "run_diffs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "activities"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    await queryRunner.query(
      `ALTER TABLE "run_diffs" ADD CONSTRAINT "run_diffs_baseline_id_fkey" FOREIGN KEY ("baseline_id") REFERENCES "activities"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
    // The external id in code point order ("C"), as the diff is ordered and its cursor compares.
    await queryRunner.query(
      `CREATE TABLE "run_diff_rows" ("run_id" uuid NOT NULL, "rank" smallint NOT NULL, "external_id_value" text COLLATE "C" NOT NULL, "display_name" text, "object_type" text, "current_item_id" uuid, "current_error_type" "public"."error_type", "current_change_type" "public"."object_change_type", "baseline_item_id" uuid, "baseline_error_type" "public"."error_type", "baseline_change_type" "public"."object_change_type", CONSTRAINT "run_diff_rows_pkey" PRIMARY KEY ("run_id", "rank", "external_id_value"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "run_diff_rows" ADD CONSTRAINT "run_diff_rows_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "run_diffs"("run_id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "run_diff_rows" DROP CONSTRAINT "run_diff_rows_run_id_fkey"`);
    await queryRunner.query(`DROP TABLE "run_diff_rows"`);
    await queryRunner.query(`ALTER TABLE "run_diffs" DROP CONSTRAINT "run_diffs_baseline_id_fkey"`);
    await queryRunner.query(`ALTER TABLE "run_diffs" DROP CONSTRAINT "run_diffs_run_id_fkey"`);
    await queryRunner.query(`DROP INDEX "public"."run_diffs_baseline_id_idx"`);
    await queryRunner.query(`DROP TABLE "run_diffs"`);
  }
}

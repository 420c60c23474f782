import { MigrationInterface, QueryRunner } from 'typeorm';

/** Batch ids of appends, so that a retried append is answered from the first one. */
export class AppendBatches1795821109259 implements MigrationInterface {
  name = 'AppendBatches1795821109259';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "append_batches" ("activity_id" uuid NOT NULL, "batch_id" text NOT NULL, "first_sequence" integer NOT NULL, "item_count" integer NOT NULL, "content_hash" text NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "append_batches_pkey" PRIMARY KEY ("activity_id", "batch_id"))`,
    );
    await queryRunner.query(
      `ALTER TABLE "append_batches" ADD CONSTRAINT "append_batches_activity_id_fkey" FOREIGN KEY ("activity_id") REFERENCES "activities"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "append_batches" DROP CONSTRAINT "append_batches_activity_id_fkey"`);
    await queryRunner.query(`DROP TABLE "append_batches"`);
  }
}

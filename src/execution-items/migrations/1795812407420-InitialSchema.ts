import { MigrationInterface, QueryRunner } from 'typeorm';

export class InitialSchema1795812407420 implements MigrationInterface {
  name = 'InitialSchema1795812407420';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TYPE "public"."activity_target_type" AS ENUM('ConnectedSystemRunProfile', 'ConnectedSystem', 'SynchronisationRule', 'MetaverseObject', 'ServiceSetting', 'HistoryRetentionCleanup', 'Schedule', 'ApiKey', 'Role', 'DataGeneration')`,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."run_type" AS ENUM('FullImport', 'DeltaImport', 'FullSynchronisation', 'DeltaSynchronisation', 'Export')`,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."activity_status" AS ENUM('InProgress', 'Complete', 'CompleteWithWarning', 'CompleteWithError', 'FailedWithError', 'Cancelled')`,
    );
    await queryRunner.query(
      `CREATE TABLE "activities" ("id" uuid NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "completed" TIMESTAMP WITH TIME ZONE, "target_type" "public"."activity_target_type" NOT NULL, "target_name" text, "target_context" text, "run_type" "public"."run_type", "status" "public"."activity_status" NOT NULL DEFAULT 'InProgress', "item_count" integer NOT NULL DEFAULT '0', "error_item_count" integer NOT NULL DEFAULT '0', "change_type_counts" jsonb NOT NULL DEFAULT '{}', "error_type_counts" jsonb NOT NULL DEFAULT '{}', "object_type_counts" jsonb NOT NULL DEFAULT '{}', "outcome_type_counts" jsonb NOT NULL DEFAULT '{}', CONSTRAINT "activities_pkey" PRIMARY KEY ("id"))`,
    );
    await queryRunner.query(`CREATE INDEX "activities_created_idx" ON "activities"  ("created", "id") `);
    await queryRunner.query(
      `CREATE TYPE "public"."object_change_type" AS ENUM('Add', 'Update', 'Delete', 'Projected', 'Joined', 'AttributeFlow', 'Disconnected', 'DisconnectedOutOfScope', 'OutOfScopeRetainJoin', 'DriftCorrection', 'PendingExport', 'Exported', 'Deprovisioned', 'PendingExportConfirmed', 'NoChange', 'Created')`,
    );
    await queryRunner.query(
      `CREATE TYPE "public"."error_type" AS ENUM('AmbiguousMatch', 'CouldNotMatchObjectType', 'MissingExternalIdAttributeValue', 'DuplicateObject', 'UnresolvedReference', 'UnhandledError', 'CouldNotJoinDueToExistingJoin', 'DuplicateImportedAttributes', 'UnexpectedAttribute', 'UnsupportedExternalIdAttributeType', 'ExportNotConfirmed', 'ExportConfirmationFailed', 'CsoCreationFailed', 'InvalidGeneratedExternalId', 'ExpressionEvaluationError', 'ExpressionMissingInput', 'MultiValuedToSingleValued', 'ImportAttributeValueError', 'ConnectorConfigurationError')`,
    );
    await queryRunner.query(
      `CREATE TABLE "execution_items" ("id" uuid NOT NULL, "activity_id" uuid NOT NULL, "sequence" integer NOT NULL, "object_change_type" "public"."object_change_type" NOT NULL, "error_type" "public"."error_type", "external_id_value" text, "display_name" text, "object_type" text, "outcome_summary" text, "error_message" text, "error_stack_trace" text, "outcomes" jsonb NOT NULL DEFAULT '[]', CONSTRAINT "execution_items_pkey" PRIMARY KEY ("id"))`,
    );
    // The list's columns ride in the (activity_id, sequence) index, so a page is an index-only
    // range scan: a handful of buffers at any depth, whatever the size of the outcome trees.
    await queryRunner.query(
      `ALTER TABLE "execution_items" ADD CONSTRAINT "execution_items_activity_sequence_key" UNIQUE ("activity_id", "sequence") INCLUDE ("id", "external_id_value", "display_name", "object_type", "object_change_type", "error_type", "outcome_summary")`,
    );
    // Items are only ever inserted; vacuum after every 1% of new rows (not the default 20%) so
    // the visibility map keeps up and pages of a run being written stay index-only too.
    await queryRunner.query(
      `ALTER TABLE "execution_items" SET (autovacuum_vacuum_insert_scale_factor = 0.01)`,
    );
    await queryRunner.query(
      `ALTER TABLE "execution_items" ADD CONSTRAINT "execution_items_activity_id_fkey" FOREIGN KEY ("activity_id") REFERENCES "activities"("id") ON DELETE CASCADE ON UPDATE NO ACTION`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "execution_items" DROP CONSTRAINT "execution_items_activity_id_fkey"`,
    );
    await queryRunner.query(`DROP TABLE "execution_items"`);
    await queryRunner.query(`DROP TYPE "public"."error_type"`);
    await queryRunner.query(`DROP TYPE "public"."object_change_type"`);
    await queryRunner.query(`DROP INDEX "public"."activities_created_idx"`);
    await queryRunner.query(`DROP TABLE "activities"`);
    await queryRunner.query(`DROP TYPE "public"."activity_status"`);
    await queryRunner.query(`DROP TYPE "public"."run_type"`);
    await queryRunner.query(`DROP TYPE "public"."activity_target_type"`);
  }
}

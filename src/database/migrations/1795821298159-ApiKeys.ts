import { MigrationInterface, QueryRunner } from 'typeorm';

/** API keys for automation: only a SHA-256 of each key, looked up through the unique index. */
export class ApiKeys1795821298159 implements MigrationInterface {
  name = 'ApiKeys1795821298159';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE "api_keys" ("id" uuid NOT NULL, "name" text NOT NULL, "key_hash" text NOT NULL, "prefix" text NOT NULL, "roles" text array NOT NULL, "created" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), "expires" TIMESTAMP WITH TIME ZONE, "revoked" TIMESTAMP WITH TIME ZONE, CONSTRAINT "api_keys_key_hash_key" UNIQUE ("key_hash"), CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id"))`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "api_keys"`);
  }
}

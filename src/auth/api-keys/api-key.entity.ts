import { Column, Entity, PrimaryColumn, Unique } from 'typeorm';

/**
 * A key for automation (`X-API-Key`). Only the SHA-256 of the key is kept; the key itself is shown
 * once, when it is created. The unique constraint on the hash is the index requests look keys up by.
 */
@Entity({ name: 'api_keys' })
@Unique('api_keys_key_hash_key', ['keyHash'])
export class ApiKey {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'api_keys_pkey' })
  id!: string;

  /** What the key is for, e.g. `nightly-export`. */
  @Column({ type: 'text' })
  name!: string;

  /** SHA-256 of the whole key, lower-case hex. */
  @Column({ name: 'key_hash', type: 'text' })
  keyHash!: string;

  /** The key's first 12 characters (`eik_` and 8 more), to tell keys apart in lists. */
  @Column({ type: 'text' })
  prefix!: string;

  /** The roles a request with this key holds. */
  @Column({ type: 'text', array: true })
  roles!: string[];

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created!: Date;

  /** No longer accepted from this time on; null for a key that does not expire. */
  @Column({ type: 'timestamptz', nullable: true })
  expires!: Date | null;

  /** When the key was revoked (disabled for good); null while it is usable. */
  @Column({ type: 'timestamptz', nullable: true })
  revoked!: Date | null;
}

export const API_KEYS_ENTITIES = [ApiKey];

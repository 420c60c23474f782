import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import {
  ACTIVITY_STATUSES,
  ACTIVITY_TARGET_TYPES,
  RUN_TYPES,
  type ActivityStatus,
  type ActivityTargetType,
  type RunType,
} from '../vocabulary';

/** Counts per vocabulary value, e.g. `{ "Update": 120, "Add": 3 }`. */
export type CountsByKey = Record<string, number>;

/**
 * Something the platform did. A `ConnectedSystemRunProfile` activity is a sync run and owns
 * execution items; its counters are maintained in the same transaction as every append, so
 * totals never need `COUNT(*)` over the items.
 */
@Entity({ name: 'activities' })
@Index('activities_created_idx', ['created', 'id'])
// The list's filter indexes (RunReads migration), by name only: schema comparison leaves them alone.
@Index('activities_run_profile_idx', { synchronize: false })
@Index('activities_target_name_idx', { synchronize: false })
@Index('activities_run_type_idx', { synchronize: false })
@Index('activities_with_errors_idx', { synchronize: false })
export class Activity {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'activities_pkey' })
  id!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  completed!: Date | null;

  @Column({
    name: 'target_type',
    type: 'enum',
    enum: ACTIVITY_TARGET_TYPES,
    enumName: 'activity_target_type',
  })
  targetType!: ActivityTargetType;

  /** For a run profile: the run profile's name. */
  @Column({ name: 'target_name', type: 'text', nullable: true })
  targetName!: string | null;

  /** For a run profile: the connected system's name. */
  @Column({ name: 'target_context', type: 'text', nullable: true })
  targetContext!: string | null;

  @Column({ name: 'run_type', type: 'enum', enum: RUN_TYPES, enumName: 'run_type', nullable: true })
  runType!: RunType | null;

  @Column({ type: 'enum', enum: ACTIVITY_STATUSES, enumName: 'activity_status', default: 'InProgress' })
  status!: ActivityStatus;

  /** Number of execution items; also the highest item sequence number. */
  @Column({ name: 'item_count', type: 'integer', default: 0 })
  itemCount!: number;

  @Column({ name: 'error_item_count', type: 'integer', default: 0 })
  errorItemCount!: number;

  @Column({ name: 'change_type_counts', type: 'jsonb', default: () => "'{}'" })
  changeTypeCounts!: CountsByKey;

  @Column({ name: 'error_type_counts', type: 'jsonb', default: () => "'{}'" })
  errorTypeCounts!: CountsByKey;

  @Column({ name: 'object_type_counts', type: 'jsonb', default: () => "'{}'" })
  objectTypeCounts!: CountsByKey;

  @Column({ name: 'outcome_type_counts', type: 'jsonb', default: () => "'{}'" })
  outcomeTypeCounts!: CountsByKey;
}

import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { ERROR_TYPES, OBJECT_CHANGE_TYPES, type ErrorType, type ObjectChangeType } from '../vocabulary';
import { RunDiff } from './run-diff.entity';

/**
 * One object of a stored diff: a row of the diff's page as the statement that computes it
 * answers it. The key is the diff's order, change then external id by code point (the column's
 * collation is "C"), so a page is one index range.
 */
@Entity({ name: 'run_diff_rows' })
export class RunDiffRow {
  @PrimaryColumn({ name: 'run_id', type: 'uuid', primaryKeyConstraintName: 'run_diff_rows_pkey' })
  runId!: string;

  @ManyToOne(() => RunDiff, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({
    name: 'run_id',
    referencedColumnName: 'runId',
    foreignKeyConstraintName: 'run_diff_rows_run_id_fkey',
  })
  diff?: RunDiff;

  /** The change's index in `DIFF_CHANGES`. */
  @PrimaryColumn({ type: 'smallint', primaryKeyConstraintName: 'run_diff_rows_pkey' })
  rank!: number;

  @PrimaryColumn({
    name: 'external_id_value',
    type: 'text',
    collation: 'C',
    primaryKeyConstraintName: 'run_diff_rows_pkey',
  })
  externalIdValue!: string;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName!: string | null;

  @Column({ name: 'object_type', type: 'text', nullable: true })
  objectType!: string | null;

  @Column({ name: 'current_item_id', type: 'uuid', nullable: true })
  currentItemId!: string | null;

  @Column({
    name: 'current_error_type',
    type: 'enum',
    enum: ERROR_TYPES,
    enumName: 'error_type',
    nullable: true,
  })
  currentErrorType!: ErrorType | null;

  @Column({
    name: 'current_change_type',
    type: 'enum',
    enum: OBJECT_CHANGE_TYPES,
    enumName: 'object_change_type',
    nullable: true,
  })
  currentChangeType!: ObjectChangeType | null;

  @Column({ name: 'baseline_item_id', type: 'uuid', nullable: true })
  baselineItemId!: string | null;

  @Column({
    name: 'baseline_error_type',
    type: 'enum',
    enum: ERROR_TYPES,
    enumName: 'error_type',
    nullable: true,
  })
  baselineErrorType!: ErrorType | null;

  @Column({
    name: 'baseline_change_type',
    type: 'enum',
    enum: OBJECT_CHANGE_TYPES,
    enumName: 'object_change_type',
    nullable: true,
  })
  baselineChangeType!: ObjectChangeType | null;
}

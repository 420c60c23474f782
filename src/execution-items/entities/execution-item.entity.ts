import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn, Unique } from 'typeorm';
import {
  ERROR_TYPES,
  OBJECT_CHANGE_TYPES,
  type ErrorType,
  type ObjectChangeType,
  type OutcomeType,
} from '../vocabulary';
import { Activity } from './activity.entity';

/**
 * One node of an item's outcome tree (contract §3), as the engine sends it and as it is stored:
 * an absent field means null, and children keep their order.
 */
export interface OutcomeNode {
  type: OutcomeType;
  detailCount?: number | null;
  detailMessage?: string | null;
  targetId?: string | null;
  targetDescription?: string | null;
  children?: OutcomeNode[];
}

/**
 * What one run did to one directory object. Immutable once written. `sequence` numbers the
 * items of a run densely from 1 in processing order, so page N is an index range on
 * (activity_id, sequence), whose rows are read from the heap, where a run's items lie together.
 *
 * The filter, sort and search indexes (partial, expression and GIN indexes, see the ItemQueries
 * and LeanItemIndexes migrations) are declared here by name only, so that schema comparison
 * leaves them alone.
 */
@Entity({ name: 'execution_items' })
@Unique('execution_items_activity_sequence_key', ['activityId', 'sequence'])
@Index('execution_items_errors_idx', { synchronize: false })
@Index('execution_items_error_type_idx', { synchronize: false })
@Index('execution_items_change_type_idx', { synchronize: false })
@Index('execution_items_object_type_idx', { synchronize: false })
@Index('execution_items_display_name_sort_idx', { synchronize: false })
@Index('execution_items_external_id_sort_idx', { synchronize: false })
@Index('execution_items_outcome_types_idx', { synchronize: false })
@Index('execution_items_search_idx', { synchronize: false })
@Index('execution_items_object_idx', { synchronize: false })
@Index('execution_items_object_name_idx', { synchronize: false })
export class ExecutionItem {
  @PrimaryColumn({ type: 'uuid', primaryKeyConstraintName: 'execution_items_pkey' })
  id!: string;

  @Column({ name: 'activity_id', type: 'uuid' })
  activityId!: string;

  @ManyToOne(() => Activity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'activity_id', foreignKeyConstraintName: 'execution_items_activity_id_fkey' })
  activity?: Activity;

  @Column({ type: 'integer' })
  sequence!: number;

  @Column({
    name: 'object_change_type',
    type: 'enum',
    enum: OBJECT_CHANGE_TYPES,
    enumName: 'object_change_type',
  })
  objectChangeType!: ObjectChangeType;

  @Column({ name: 'error_type', type: 'enum', enum: ERROR_TYPES, enumName: 'error_type', nullable: true })
  errorType!: ErrorType | null;

  @Column({ name: 'external_id_value', type: 'text', nullable: true })
  externalIdValue!: string | null;

  @Column({ name: 'display_name', type: 'text', nullable: true })
  displayName!: string | null;

  @Column({ name: 'object_type', type: 'text', nullable: true })
  objectType!: string | null;

  @Column({ name: 'outcome_summary', type: 'text', nullable: true })
  outcomeSummary!: string | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  @Column({ name: 'error_stack_trace', type: 'text', nullable: true })
  errorStackTrace!: string | null;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  outcomes!: OutcomeNode[];

  /** The distinct outcome types anywhere in `outcomes`, for the outcomeType filter. */
  @Column({ name: 'outcome_types', type: 'text', array: true, default: () => "'{}'" })
  outcomeTypes!: OutcomeType[];
}

/** The list columns of an item, as PostgreSQL returns them to the module's own SQL. */
export interface ExecutionItemRow {
  id: string;
  external_id_value: string | null;
  display_name: string | null;
  object_type: string | null;
  object_change_type: ObjectChangeType;
  error_type: ErrorType | null;
  outcome_summary: string | null;
}

/** One item with everything stored about it. */
export interface ExecutionItemDetailRow extends ExecutionItemRow {
  sequence: number;
  error_message: string | null;
  error_stack_trace: string | null;
  outcomes: OutcomeNode[];
}

import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Activity } from './activity.entity';

/**
 * A run's diff against its default baseline (contract §9), stored once both runs have ended: from
 * then on it never changes. It answers a diff request only while `baselineId` is still the
 * baseline the request compares against; see `StoredDiffs`. Its rows are `RunDiffRow`s.
 */
@Entity({ name: 'run_diffs' })
@Index('run_diffs_baseline_id_idx', ['baselineId'])
export class RunDiff {
  @PrimaryColumn({ name: 'run_id', type: 'uuid', primaryKeyConstraintName: 'run_diffs_pkey' })
  runId!: string;

  @ManyToOne(() => Activity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'run_id', foreignKeyConstraintName: 'run_diffs_run_id_fkey' })
  run?: Activity;

  /** The run it was computed against. */
  @Column({ name: 'baseline_id', type: 'uuid' })
  baselineId!: string;

  @ManyToOne(() => Activity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'baseline_id', foreignKeyConstraintName: 'run_diffs_baseline_id_fkey' })
  baseline?: Activity;

  /** Objects per change over the whole diff, in `DIFF_CHANGES` order. */
  @Column({ type: 'integer', array: true })
  counts!: number[];

  @Column({ type: 'timestamptz', default: () => 'now()' })
  stored!: Date;
}

import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { Activity } from './activity.entity';

/**
 * A batch appended under a caller's batch id, so that the engine can retry an append whose
 * outcome it never learned (a crash, a timeout) without writing the items twice.
 */
@Entity({ name: 'append_batches' })
export class AppendBatch {
  @PrimaryColumn({ name: 'activity_id', type: 'uuid', primaryKeyConstraintName: 'append_batches_pkey' })
  activityId!: string;

  @PrimaryColumn({ name: 'batch_id', type: 'text', primaryKeyConstraintName: 'append_batches_pkey' })
  batchId!: string;

  @ManyToOne(() => Activity, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'activity_id', foreignKeyConstraintName: 'append_batches_activity_id_fkey' })
  activity?: Activity;

  /** Sequence of the batch's first item; its items are `first_sequence .. + item_count - 1`. */
  @Column({ name: 'first_sequence', type: 'integer' })
  firstSequence!: number;

  @Column({ name: 'item_count', type: 'integer' })
  itemCount!: number;

  /** SHA-256 of the batch's items as sent, to tell a retry from a different batch reusing the id. */
  @Column({ name: 'content_hash', type: 'text' })
  contentHash!: string;

  @Column({ type: 'timestamptz', default: () => 'now()' })
  created!: Date;
}

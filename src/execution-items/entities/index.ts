import { Activity } from './activity.entity';
import { AppendBatch } from './append-batch.entity';
import { ExecutionItem } from './execution-item.entity';
import { RunDiff } from './run-diff.entity';
import { RunDiffRow } from './run-diff-row.entity';

export const EXECUTION_ITEMS_ENTITIES = [Activity, ExecutionItem, AppendBatch, RunDiff, RunDiffRow];

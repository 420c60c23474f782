import { Activity } from './activity.entity';
import { AppendBatch } from './append-batch.entity';
import { ExecutionItem } from './execution-item.entity';

export const EXECUTION_ITEMS_ENTITIES = [Activity, ExecutionItem, AppendBatch];

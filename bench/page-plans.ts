import type { Client } from 'pg';
import { withClient } from './database';
import type { PagePoint } from './latency';
import { PAGE_SQL, normaliseSql } from './page-query';

/** The application_name the service's pool sets (src/database/typeorm-options.ts). */
export const SERVICE_APPLICATION_NAME = 'execution-items';

export interface LivePageSql {
  /** The page statement the running service was seen sending, or null when none was seen. */
  sql: string | null;
  /** Whitespace-insensitive equality with the baseline's copy (bench/page-query.ts). */
  sameAsBaseline: boolean;
}

/**
 * The page SQL the service actually runs, read from pg_stat_activity: its pooled connections
 * keep showing their last statement while idle.
 */
export async function observeServicePageSql(url: string): Promise<LivePageSql> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ query: string }>(
      `SELECT query, count(*) AS connections
         FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = $1
          AND query ILIKE '%execution_items%' AND query !~* '^\\s*(insert|copy|update|delete)'
        GROUP BY query ORDER BY connections DESC LIMIT 1`,
      [SERVICE_APPLICATION_NAME],
    );
    const sql = rows[0]?.query ?? null;
    return { sql, sameAsBaseline: sql !== null && normaliseSql(sql) === normaliseSql(PAGE_SQL) };
  });
}

/** Reads the totalCount promise off a page statement: the count comes from the run's counter, not COUNT(*). */
export function countSource(sql: string): { readsCounter: boolean; usesCountStar: boolean } {
  return { readsCounter: /\bitem_count\b/i.test(sql), usesCountStar: /\bcount\s*\(/i.test(sql) };
}

export interface PagePlan {
  point: PagePoint;
  sharedHit: number;
  sharedRead: number;
  executionMs: number;
  parallel: boolean;
  /** Heap visits of index-only scans (pages not all-visible). */
  heapFetches: number;
  /** Each node, pre-order. */
  nodes: PlanNodeSummary[];
}

export interface PlanNodeSummary {
  type: string;
  relation: string | null;
  /** Shared hit + read of the node, its children included. */
  buffers: number;
}

interface PlanNode {
  'Node Type': string;
  'Parallel Aware'?: boolean;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Heap Fetches'?: number;
  'Relation Name'?: string;
  Plans?: PlanNode[];
}

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

function summariseNode(node: PlanNode): PlanNodeSummary {
  return {
    type: node['Node Type'],
    relation: node['Relation Name'] ?? null,
    buffers: (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0),
  };
}

/** `$1..$3` replaced by literals, so the plan is the custom plan an unnamed statement gets. */
function withLiterals(sql: string, activityId: string, offset: string, pageSize: number): string {
  const values: Record<string, string> = {
    '1': `'${activityId}'`,
    '2': `'${offset}'`,
    '3': String(pageSize),
  };
  return sql.replace(/\$(\d+)\b/g, (_, index: string) => {
    if (!(index in values)) throw new Error(`page SQL has a parameter $${index} the bench cannot fill`);
    return values[index];
  });
}

async function explainPage(
  client: Client,
  sql: string,
  activityId: string,
  point: PagePoint,
): Promise<PagePlan> {
  const offset = String((point.page - 1) * point.pageSize);
  const statement = `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${withLiterals(sql, activityId, offset, point.pageSize)}`;
  await client.query(statement); // the first run may read catalog and cold pages; keep the second
  const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
    statement,
  );
  const [{ Plan: top, 'Execution Time': executionMs }] = rows[0]['QUERY PLAN'];
  const nodes = planNodes(top);
  return {
    point,
    sharedHit: top['Shared Hit Blocks'] ?? 0,
    sharedRead: top['Shared Read Blocks'] ?? 0,
    executionMs,
    parallel: nodes.some((node) => node['Node Type'].startsWith('Gather') || node['Parallel Aware'] === true),
    heapFetches: nodes.reduce((sum, node) => sum + (node['Heap Fetches'] ?? 0), 0),
    nodes: nodes.map(summariseNode),
  };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the page statement at each point. */
export async function explainPages(
  url: string,
  sql: string,
  activityId: string,
  points: PagePoint[],
): Promise<PagePlan[]> {
  return withClient(url, async (client) => {
    const plans: PagePlan[] = [];
    for (const point of points) plans.push(await explainPage(client, sql, activityId, point));
    return plans;
  });
}

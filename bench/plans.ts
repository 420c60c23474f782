/**
 * What the service's statements do in PostgreSQL: the page SQL it is seen running
 * (pg_stat_activity) against the one it is built from, and EXPLAIN (ANALYZE, BUFFERS) of the page
 * statement and of the statements behind the filtered, searched and exported requests.
 */
import { request } from 'node:http';
import type { Client } from 'pg';
import { PAGE_BY_SEQUENCE_SQL } from '../src/execution-items/execution-items.query';
import { containsPattern } from '../src/execution-items/item-query';
import { decodeCursor } from '../src/execution-items/paging';
import { withClient } from './database';
import type { FindingPoint } from './finding';
import { timedGet } from './http-client';
import type { PagePoint } from './latency';
import type { HttpTarget } from './servers';

/** The application_name the service's pool sets (src/database/typeorm-options.ts). */
const SERVICE_APPLICATION_NAME = 'execution-items';

export type LivePageSql = Awaited<ReturnType<typeof observeServicePageSql>>;

const normalised = (sql: string) => sql.replace(/\s+/g, ' ').trim();

/**
 * The page SQL the service actually runs, read from pg_stat_activity (its pooled connections keep
 * showing their last statement while idle), compared with the `PAGE_BY_SEQUENCE_SQL` it imports.
 */
export async function observeServicePageSql(url: string) {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ query: string }>(
      `SELECT query, count(*) AS connections
         FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = $1
          AND query ILIKE '%execution_items%' AND query !~* '^\\s*(insert|copy|update|delete)'
        GROUP BY query ORDER BY connections DESC LIMIT 1`,
      [SERVICE_APPLICATION_NAME],
    );
    const sql = rows[0]?.query ?? null; // null when none was seen
    return { sql, sameAsProduction: sql !== null && normalised(sql) === normalised(PAGE_BY_SEQUENCE_SQL) };
  });
}

/** Reads the totalCount promise off a page statement: the count comes from the run's counter, not COUNT(*). */
export function countSource(sql: string): { readsCounter: boolean; usesCountStar: boolean } {
  return { readsCounter: /\bitem_count\b/i.test(sql), usesCountStar: /\bcount\s*\(/i.test(sql) };
}

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Parallel Aware'?: boolean;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Heap Fetches'?: number;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  Plans?: PlanNode[];
}

const planNodes = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(planNodes)];
const buffersOf = (node: PlanNode) => (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0);

/**
 * EXPLAIN (ANALYZE, BUFFERS) with bound parameters (extended protocol: the custom plan an unnamed
 * statement gets, as the service's), run twice: the first may read catalog and cold pages.
 */
async function explain(client: Client, sql: string, values: unknown[]) {
  await explainOnce(client, sql, values);
  return explainOnce(client, sql, values);
}

async function explainOnce(client: Client, sql: string, values: unknown[]) {
  const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`,
    values,
  );
  const [{ Plan: top, 'Execution Time': executionMs }] = rows[0]['QUERY PLAN'];
  return {
    nodes: planNodes(top),
    executionMs,
    sharedHit: top['Shared Hit Blocks'] ?? 0,
    sharedRead: top['Shared Read Blocks'] ?? 0,
  };
}

export type PagePlan = Awaited<ReturnType<typeof explainPages>>[number];

/** EXPLAIN (ANALYZE, BUFFERS) of the page statement at each point, with its parameters as the service binds them. */
export async function explainPages(url: string, sql: string, activityId: string, points: PagePoint[]) {
  return withClient(url, async (client) => {
    const plans = [];
    for (const point of points) {
      const offset = String((point.page - 1) * point.pageSize);
      const { nodes, ...plan } = await explain(client, sql, [activityId, offset, point.pageSize]);
      plans.push({
        point,
        ...plan,
        parallel: nodes.some(
          (node) => node['Node Type'].startsWith('Gather') || node['Parallel Aware'] === true,
        ),
        // Heap visits of index-only scans (pages not all-visible).
        heapFetches: nodes.reduce((sum, node) => sum + (node['Heap Fetches'] ?? 0), 0),
        // Each node, pre-order; buffers are shared hit + read of the node, its children included.
        nodes: nodes.map((node) => ({
          type: node['Node Type'],
          relation: node['Relation Name'] ?? null,
          buffers: buffersOf(node),
        })),
      });
    }
    return plans;
  });
}

/** Pages a spread samples at each page size. */
const SPREAD_SAMPLES = 200;

/**
 * Buffers (shared hit + read) of the page statement for `SPREAD_SAMPLES` pages spread evenly over
 * a run of `totalItems`, at pageSize 25 and 100: the spread of how many heap pages a page's rows
 * lie on, which three points cannot show. Each is explained once: hits and reads together do not
 * depend on what is cached.
 */
export async function pageBufferSpread(url: string, sql: string, activityId: string, totalItems: number) {
  return withClient(url, async (client) => {
    const spreads = [];
    for (const pageSize of [25, 100]) {
      const lastPage = Math.ceil(totalItems / pageSize);
      const count = Math.min(SPREAD_SAMPLES, lastPage);
      const buffers: number[] = [];
      for (let sample = 0; sample < count; sample++) {
        const page = 1 + Math.floor((sample * (lastPage - 1)) / Math.max(count - 1, 1));
        const { sharedHit, sharedRead } = await explainOnce(client, sql, [
          activityId,
          String((page - 1) * pageSize),
          pageSize,
        ]);
        buffers.push(sharedHit + sharedRead);
      }
      buffers.sort((a, b) => a - b);
      const rank = (share: number) => buffers[Math.max(Math.ceil(share * buffers.length) - 1, 0)];
      spreads.push({ pageSize, pages: count, median: rank(0.5), p90: rank(0.9), max: rank(1) });
    }
    return spreads;
  });
}

export interface FindingPlan {
  label: string;
  /** The statement as the service sent it, or null when none was seen. */
  sql: string | null;
  /** Why there is no plan; null when there is one. */
  problem: string | null;
  executionMs: number;
  sharedHit: number;
  sharedRead: number;
  /** Each node, pre-order: type, index, relation, buffers incl. children. */
  nodes: string[];
  /** The indexes the plan reads. */
  indexes: string[];
  /** The most times one scan of execution_items ran (1: each scan once; parallel workers aside). */
  itemScanLoops: number;
}

function describeNode(node: PlanNode): string {
  const index = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const relation = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  // Rows are per loop; a node run once per outer row (a correlated subplan) shows its loops.
  const loops = node['Actual Loops'] ?? 1;
  return `${node['Node Type']}${index}${relation} (${buffersOf(node)} buffers, ${node['Actual Rows'] ?? 0} rows${loops > 1 ? ` × ${loops} loops` : ''})`;
}

/**
 * The latest statement on items of a service connection in one of `states`: requests are
 * sequential, so after a request the latest idle one is its statement.
 */
async function latestServiceStatement(client: Client, states = ['idle']): Promise<string | null> {
  const { rows } = await client.query<{ query: string }>(
    `SELECT query FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = $1 AND state = ANY($2::text[])
        AND query ILIKE '%execution_items%'
      ORDER BY query_start DESC LIMIT 1`,
    [SERVICE_APPLICATION_NAME, states],
  );
  return rows[0]?.query ?? null;
}

/**
 * The export's statement, read while it streams: the export runs in a transaction of its own
 * that ends with a ROLLBACK, so once it is over its connection shows that instead. The request
 * is abandoned after the first chunk (the service then stops the stream and frees the connection).
 */
async function exportStatement(client: Client, service: HttpTarget, token: string, path: string) {
  return new Promise<string | null>((resolveStatement, reject) => {
    const headers = { authorization: `Bearer ${token}` };
    const req = request(`${service.baseUrl}${path}`, { method: 'GET', agent: false, headers }, (res) => {
      res.on('error', () => undefined); // the abort below
      if (res.statusCode !== 200) {
        res.resume();
        resolveStatement(null);
        return;
      }
      res.once('data', () => {
        res.pause();
        latestServiceStatement(client, ['active', 'idle in transaction'])
          .then(resolveStatement, reject)
          .finally(() => req.destroy());
      });
      res.once('end', () => resolveStatement(null));
    });
    req.on('error', (error) => reject(error)); // no effect once settled: the abort after the look
    req.end();
  });
}

const PLACEHOLDER = /(LIMIT\s+|OFFSET\s+)?\$(\d+)(?:::([a-z_]+(?:\[\])?))?/gi;

/**
 * The values of the statement's placeholders, from the request's path, by the cast each carries
 * (`$2::error_type[]` is the errorType list, `LIMIT $5::int` is the page size plus the one row
 * that tells whether a next page exists, ...); sequence order only.
 */
export function parameterValues(sql: string, path: string): unknown[] {
  const url = new URL(path, 'http://bench');
  const activityId = /\/activities\/([^/]+)\//.exec(url.pathname)?.[1] ?? '';
  const query = url.searchParams;
  const pageSize = Number(query.get('pageSize') ?? 25);
  const offset = String((Number(query.get('page') ?? 1) - 1) * pageSize);
  const cursor = query.get('cursor');
  const values: unknown[] = [];
  for (const [, clause, number, cast] of sql.matchAll(PLACEHOLDER)) {
    const keyword = clause?.trim().toUpperCase();
    const type = cast?.toLowerCase();
    let value: unknown;
    if (keyword === 'LIMIT') value = pageSize + 1;
    else if (keyword === 'OFFSET' || type === 'bigint') value = offset;
    else if (type === 'uuid') value = activityId;
    else if (type === 'error_type[]' && query.get('errorType')) value = query.get('errorType')!.split(',');
    else if (type === 'text' && query.get('search')) value = containsPattern(query.get('search')!);
    else if (type === 'int' && cursor) value = decodeCursor(cursor, activityId).after.at(-1);
    else throw new Error(`placeholder $${number}${cast ? `::${cast}` : ''} has no value the bench can fill`);
    values[Number(number) - 1] = value;
  }
  return values;
}

function noPlan(label: string, sql: string | null, problem: string): FindingPlan {
  return {
    label,
    sql,
    problem,
    executionMs: NaN,
    sharedHit: 0,
    sharedRead: 0,
    nodes: [],
    indexes: [],
    itemScanLoops: 0,
  };
}

async function explainFindingStatement(client: Client, label: string, sql: string, path: string) {
  let values: unknown[];
  try {
    values = parameterValues(sql, path);
  } catch (error) {
    return noPlan(label, sql, (error as Error).message);
  }
  const { nodes, ...plan } = await explain(client, sql, values);
  const itemScans = nodes.filter(
    (node) =>
      node['Parallel Aware'] !== true && // a parallel scan's loops are its workers
      (node['Relation Name'] === 'execution_items' || node['Index Name']?.startsWith('execution_items')),
  );
  return {
    label,
    sql,
    problem: null,
    ...plan,
    nodes: nodes.map(describeNode),
    indexes: [...new Set(nodes.flatMap((node) => (node['Index Name'] ? [node['Index Name']] : [])))],
    itemScanLoops: Math.max(1, ...itemScans.map((node) => node['Actual Loops'] ?? 1)),
  };
}

/**
 * Explains the statement the service was seen running (pg_stat_activity, right after the request)
 * for each filtered or searched request and for the export; its parameters are not visible there,
 * so they are filled from the request (`parameterValues`). A placeholder the bench cannot fill
 * leaves that request without a plan, with the reason.
 */
export async function explainFinding(
  url: string,
  service: HttpTarget,
  token: string,
  points: FindingPoint[],
  exportPath: string,
): Promise<FindingPlan[]> {
  return withClient(url, async (client) => {
    const plans: FindingPlan[] = [];
    const exportSql = await exportStatement(client, service, token, exportPath);
    // Not stats (it reads no items) nor the unfiltered page (its plans are the page plans).
    for (const point of points.filter((candidate) => !['stats', 'unfiltered'].includes(candidate.key))) {
      const response = await timedGet(`${service.baseUrl}${point.path}`, token);
      const sql = response.status === 200 ? await latestServiceStatement(client) : null;
      plans.push(
        sql
          ? await explainFindingStatement(client, point.label, sql, point.path)
          : noPlan(point.label, null, `status ${response.status} or no statement seen`),
      );
    }
    const label = 'CSV export of the whole run';
    plans.push(
      exportSql
        ? await explainFindingStatement(client, label, exportSql, exportPath)
        : noPlan(label, null, 'no statement seen'),
    );
    return plans;
  });
}

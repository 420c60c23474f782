import { request } from 'node:http';
import type { Client } from 'pg';
import { withClient } from './database';
import type { FindingPoint } from './finding';
import { timedGet } from './http-client';
import { SERVICE_APPLICATION_NAME } from './page-plans';
import type { HttpTarget } from './servers';

/**
 * The plans of the statements behind the filtered, searched and exported requests. Each
 * statement is the one the service was seen running (pg_stat_activity, right after the request);
 * its parameters are not visible there, so they are filled from the request by the cast each
 * placeholder carries (`$2::error_type[]` is the errorType list, `LIMIT $5::int` is the page
 * size plus the one row that tells whether a next page exists, ...). A placeholder the bench
 * cannot fill leaves that request without a plan, with the reason.
 */

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

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Parallel Aware'?: boolean;
  Plans?: PlanNode[];
}

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

function describeNode(node: PlanNode): string {
  const index = node['Index Name'] ? ` using ${node['Index Name']}` : '';
  const relation = node['Relation Name'] ? ` on ${node['Relation Name']}` : '';
  const buffers = (node['Shared Hit Blocks'] ?? 0) + (node['Shared Read Blocks'] ?? 0);
  // Rows are per loop; a node run once per outer row (a correlated subplan) shows its loops.
  const loops = node['Actual Loops'] ?? 1;
  return `${node['Node Type']}${index}${relation} (${buffers} buffers, ${node['Actual Rows'] ?? 0} rows${loops > 1 ? ` × ${loops} loops` : ''})`;
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
async function exportStatement(
  client: Client,
  service: HttpTarget,
  token: string,
  path: string,
): Promise<string | null> {
  return new Promise((resolveStatement, reject) => {
    const req = request(
      `${service.baseUrl}${path}`,
      { method: 'GET', agent: false, headers: { authorization: `Bearer ${token}` } },
      (res) => {
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
      },
    );
    req.on('error', (error) => reject(error)); // no effect once settled: the abort after the look
    req.end();
  });
}

/** `%`, `_` and `\` as themselves, the term anywhere: the pattern the contract describes for `search`. */
function containsPattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** The position a cursor carries (`k`: sort key values, then the sequence); it is base64url JSON. */
function cursorSequence(cursor: string): number {
  const body = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown[] };
  const last = body.k?.at(-1);
  if (typeof last !== 'number') throw new Error('the cursor holds no sequence');
  return last;
}

const PLACEHOLDER = /(LIMIT\s+|OFFSET\s+)?\$(\d+)(?:::([a-z_]+(?:\[\])?))?/gi;

/** The values of the statement's placeholders, from the request's path (sequence order only). */
export function parameterValues(sql: string, path: string): unknown[] {
  const url = new URL(path, 'http://bench');
  const activityId = /\/activities\/([^/]+)\//.exec(url.pathname)?.[1];
  const query = url.searchParams;
  const pageSize = Number(query.get('pageSize') ?? 25);
  const offset = String((Number(query.get('page') ?? 1) - 1) * pageSize);
  const values: unknown[] = [];
  for (const [, clause, number, cast] of sql.matchAll(PLACEHOLDER)) {
    const index = Number(number) - 1;
    const keyword = clause?.trim().toUpperCase();
    const type = cast?.toLowerCase();
    let value: unknown;
    if (keyword === 'LIMIT') value = pageSize + 1;
    else if (keyword === 'OFFSET' || type === 'bigint') value = offset;
    else if (type === 'uuid') value = activityId;
    else if (type === 'error_type[]' && query.get('errorType')) value = query.get('errorType')!.split(',');
    else if (type === 'text' && query.get('search')) value = containsPattern(query.get('search')!);
    else if (type === 'int' && query.get('cursor')) value = cursorSequence(query.get('cursor')!);
    else throw new Error(`placeholder $${number}${cast ? `::${cast}` : ''} has no value the bench can fill`);
    values[index] = value;
  }
  return values;
}

async function explain(client: Client, label: string, sql: string, path: string): Promise<FindingPlan> {
  const empty = { ...noPlan(label), sql };
  let values: unknown[];
  try {
    values = parameterValues(sql, path);
  } catch (error) {
    return { ...empty, problem: (error as Error).message };
  }
  // Bound parameters (extended protocol): the custom plan an unnamed statement gets, as the service's.
  const statement = `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`;
  await client.query(statement, values); // the first run may read cold pages; keep the second
  const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode; 'Execution Time': number }> }>(
    statement,
    values,
  );
  const [{ Plan: top, 'Execution Time': executionMs }] = rows[0]['QUERY PLAN'];
  const nodes = planNodes(top);
  return {
    ...empty,
    problem: null,
    executionMs,
    sharedHit: top['Shared Hit Blocks'] ?? 0,
    sharedRead: top['Shared Read Blocks'] ?? 0,
    nodes: nodes.map(describeNode),
    indexes: [...new Set(nodes.flatMap((node) => (node['Index Name'] ? [node['Index Name']] : [])))],
    itemScanLoops: Math.max(
      1,
      ...nodes
        .filter(
          (node) =>
            node['Parallel Aware'] !== true && // a parallel scan's loops are its workers
            (node['Relation Name'] === 'execution_items' ||
              node['Index Name']?.startsWith('execution_items')),
        )
        .map((node) => node['Actual Loops'] ?? 1),
    ),
  };
}

/** Explains the statement of each filtered or searched request and of the export. */
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
    // Not stats (it reads no items) nor the unfiltered page (its plans are the page plans above).
    for (const point of points.filter((candidate) => !['stats', 'unfiltered'].includes(candidate.key))) {
      const response = await timedGet(`${service.baseUrl}${point.path}`, token);
      const sql = response.status === 200 ? await latestServiceStatement(client) : null;
      plans.push(
        sql
          ? await explain(client, point.label, sql, point.path)
          : { ...noPlan(point.label), problem: `status ${response.status} or no statement seen` },
      );
    }
    plans.push(
      exportSql
        ? await explain(client, 'CSV export of the whole run', exportSql, exportPath)
        : { ...noPlan('CSV export of the whole run'), problem: 'no statement seen' },
    );
    return plans;
  });
}

function noPlan(label: string): Omit<FindingPlan, 'problem'> {
  return {
    label,
    sql: null,
    executionMs: NaN,
    sharedHit: 0,
    sharedRead: 0,
    nodes: [],
    indexes: [],
    itemScanLoops: 0,
  };
}

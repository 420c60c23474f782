/**
 * Finding items in the target run: filtered pages (first, and deepest by cursor), search, the
 * stats route. Service only: the baseline serves the plain page and nothing else.
 */
import type { ActivityStatsResponse, ExecutionItemResponse, ItemPageResponse } from '../src/execution-items';
import { containsPattern } from '../src/execution-items/item-query';
import { withClient } from './database';
import type { LoadedRun } from './dataset';
import { sampleSequentially, timedGet } from './http-client';
import type { HttpTarget } from './servers';
import type { FindingSettings } from './settings';

export type FindingKey =
  'unfiltered' | `${'errorType' | 'hasError'}-${'first' | 'deepest'}` | 'search' | 'search-none' | 'stats';

export interface FindingPoint {
  key: FindingKey;
  /** What the report calls it. */
  label: string;
  path: string;
  /** The items on the page; null for stats. */
  items: number | null;
}

export type CursorWalk = Awaited<ReturnType<typeof walkCursor>>;
export type FindingSetup = Awaited<ReturnType<typeof prepareFinding>>;
export type FindingLatency = Awaited<ReturnType<typeof measureFindingLatency>>[number];

/** A run is read for at most this many pages by cursor (the walk would otherwise not end on a bug). */
const MAX_WALK_PAGES = 100_000;

type GetJson = <T>(path: string) => Promise<T>;

/** Walks a filter's `nextCursor` from its first page to its last; `expectedItems` is what the run's counters hold. */
async function walkCursor(
  get: GetJson,
  filter: string,
  firstPath: string,
  expectedItems: number,
  accepts: (item: ExecutionItemResponse) => boolean,
) {
  const seen = new Set<string>();
  const walk = { filter, expectedItems, totalCount: NaN, pages: 0, items: 0, duplicates: 0, wrongItems: 0 };
  for (let path = firstPath; ;) {
    const page = await get<ItemPageResponse>(path);
    if (++walk.pages === 1) walk.totalCount = page.totalCount;
    for (const item of page.items) {
      walk.items += 1;
      if (seen.has(item.id)) walk.duplicates += 1;
      seen.add(item.id);
      if (!accepts(item)) walk.wrongItems += 1;
    }
    // The request with the last cursor (the one that leads to the last page), and that page.
    if (!page.nextCursor) return { ...walk, deepest: { path, page: page.page, items: page.items.length } };
    if (walk.pages >= MAX_WALK_PAGES)
      throw new Error(`${filter}: still a nextCursor after ${walk.pages} pages`);
    // The same query with the cursor added: a cursor may come with the parameters that made it.
    path = `${firstPath}&${new URLSearchParams({ cursor: page.nextCursor }).toString()}`;
  }
}

function walkProblems(walk: CursorWalk, pageSize: number): string[] {
  const lastPage = Math.max(1, Math.ceil(walk.expectedItems / pageSize));
  return [
    walk.totalCount !== walk.expectedItems &&
      `totalCount ${walk.totalCount}, the counters hold ${walk.expectedItems}`,
    walk.items !== walk.expectedItems &&
      `the cursor walk returned ${walk.items} items, expected ${walk.expectedItems}`,
    walk.duplicates > 0 && `${walk.duplicates} items returned twice`,
    walk.wrongItems > 0 && `${walk.wrongItems} items do not match the filter`,
    walk.deepest.page !== lastPage && `the last cursor led to page ${walk.deepest.page}, not ${lastPage}`,
  ].flatMap((problem) => (problem ? [`${walk.filter}: ${problem}`] : []));
}

interface RunFacts {
  itemCount: number;
  errorItemCount: number;
  topErrorType: string;
  topErrorTypeItems: number;
  /** Items per outcome type. */
  outcomeTypeCounts: Record<string, number>;
  /** Items whose displayName or externalIdValue holds the search term, counted by PostgreSQL. */
  searchMatches: number;
}

/** The target run's counters (checked against its rows when the dataset was loaded), and the search term's matches. */
async function runFacts(url: string, activityId: string, searchTerm: string): Promise<RunFacts> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<RunFacts>(
      `SELECT item_count AS "itemCount", error_item_count AS "errorItemCount", outcome_type_counts AS "outcomeTypeCounts",
              top.key AS "topErrorType", top.value::int AS "topErrorTypeItems",
              (SELECT count(*)::int FROM execution_items
                WHERE activity_id = a.id AND (display_name ILIKE $2 OR external_id_value ILIKE $2)) AS "searchMatches"
         FROM activities a
         LEFT JOIN LATERAL (SELECT key, value FROM jsonb_each_text(a.error_type_counts)
                             ORDER BY value::int DESC, key LIMIT 1) top ON true
        WHERE a.id = $1`,
      [activityId, containsPattern(searchTerm)],
    );
    if (!rows[0]?.topErrorType) throw new Error(`the target run ${activityId} has no errors to filter on`);
    return rows[0];
  });
}

const sortedEntries = (counts: Record<string, number>) =>
  JSON.stringify(Object.entries(counts).sort(([x], [y]) => x.localeCompare(y)));

/** A check's problems, or the failure of its request as one (a timeout is a finding too). */
async function checked(label: string, check: () => Promise<Array<string | false>>): Promise<string[]> {
  try {
    return (await check()).flatMap((problem) => (problem ? [`${label}: ${problem}`] : []));
  } catch (error) {
    return [`${label}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

/**
 * Everything the finding measurements need, found once before the rounds: the most frequent
 * error type, the search term's real share (SQL), the last cursor of each filter (by walking
 * `nextCursor` from page 1 to the end), each answer checked against the counters and SQL.
 */
export async function prepareFinding(
  url: string,
  service: HttpTarget,
  token: string,
  run: LoadedRun,
  settings: FindingSettings,
) {
  const { pageSize, searchTerm, noMatchTerm } = settings;
  const facts = await runFacts(url, run.id, searchTerm);
  const get: GetJson = async <T>(path: string) => {
    const response = await timedGet(`${service.baseUrl}${path}`, token);
    if (response.status !== 200)
      throw new Error(
        `${service.name} GET ${path} answered ${response.status}: ${response.body.slice(0, 300)}`,
      );
    return JSON.parse(response.body) as T;
  };
  const items = (query: Record<string, string>) =>
    `/api/v1/activities/${run.id}/items?${new URLSearchParams({ ...query, pageSize: String(pageSize) }).toString()}`;
  const { topErrorType } = facts;
  const [errorTypePath, hasErrorPath] = [items({ errorType: topErrorType }), items({ hasError: 'true' })];
  const [searchPath, noMatchPath] = [items({ search: searchTerm }), items({ search: noMatchTerm })];
  const statsPath = `/api/v1/activities/${run.id}/stats`;
  const errorTypeWalk = await walkCursor(
    get,
    `errorType=${topErrorType}`,
    errorTypePath,
    facts.topErrorTypeItems,
    (item) => item.errorType === topErrorType,
  );
  const hasErrorWalk = await walkCursor(get, 'hasError=true', hasErrorPath, facts.errorItemCount, (item) =>
    Boolean(item.errorType),
  );
  // Items of the target run whose displayName or externalIdValue holds the term (SQL, ILIKE).
  const { searchMatches: matches, itemCount: runItems } = facts;
  const search = { term: searchTerm, matches, runItems, fraction: matches / runItems };
  const firstItems = (count: number) => Math.min(pageSize, count);
  const point = (key: FindingKey, label: string, path: string, items: number | null): FindingPoint => ({
    key,
    label,
    path,
    items,
  });
  const deepest = ({ filter, deepest }: CursorWalk, key: FindingKey) =>
    point(
      key,
      `${filter}, deepest page (${deepest.page.toLocaleString('en-US')}, ${deepest.items} items, by cursor)`,
      deepest.path,
      deepest.items,
    );
  const points = [
    point('unfiltered', 'no filter, page 1', items({ page: '1' }), firstItems(facts.itemCount)),
    point(
      'errorType-first',
      `${errorTypeWalk.filter}, page 1`,
      errorTypePath,
      firstItems(facts.topErrorTypeItems),
    ),
    deepest(errorTypeWalk, 'errorType-deepest'),
    point('hasError-first', 'hasError=true, page 1', hasErrorPath, firstItems(facts.errorItemCount)),
    deepest(hasErrorWalk, 'hasError-deepest'),
    point('search', `search=${searchTerm}, page 1`, searchPath, firstItems(matches)),
    point('search-none', `search=${noMatchTerm}, page 1`, noMatchPath, 0),
    point('stats', 'GET /activities/{id}/stats', statsPath, null),
  ];
  const problems = [
    ...walkProblems(errorTypeWalk, pageSize),
    ...walkProblems(hasErrorWalk, pageSize),
    ...(await checked(`search=${searchTerm}`, async () => {
      const page = await get<ItemPageResponse>(searchPath);
      const holds = (item: ExecutionItemResponse) =>
        [item.displayName, item.externalIdValue].some((value) =>
          value?.toLowerCase().includes(searchTerm.toLowerCase()),
        );
      const wrong = page.items.filter((item) => !holds(item)).length;
      return [
        page.totalCount !== search.matches &&
          `totalCount ${page.totalCount}, PostgreSQL counts ${search.matches} matches`,
        page.items.length !== firstItems(search.matches) &&
          `${page.items.length} items on page 1, expected ${firstItems(search.matches)}`,
        wrong > 0 && `${wrong} items on page 1 do not hold the term`,
      ];
    })),
    ...(await checked(`search=${noMatchTerm}`, async () => {
      const page = await get<ItemPageResponse>(noMatchPath);
      return [
        (page.totalCount !== 0 || page.items.length !== 0) && `${page.totalCount} matches, none expected`,
      ];
    })),
    ...(await checked('stats', async () => {
      const stats = await get<ActivityStatsResponse>(statsPath);
      return [
        stats.totalCount !== facts.itemCount &&
          `totalCount ${stats.totalCount}, item_count ${facts.itemCount}`,
        stats.itemsWithErrors !== facts.errorItemCount &&
          `itemsWithErrors ${stats.itemsWithErrors}, error_item_count ${facts.errorItemCount}`,
        stats.errorTypes[topErrorType] !== facts.topErrorTypeItems &&
          `errorTypes.${topErrorType} ${stats.errorTypes[topErrorType]}`,
        sortedEntries(stats.outcomeTypes) !== sortedEntries(facts.outcomeTypeCounts) &&
          'outcomeTypes differ from outcome_type_counts',
      ];
    })),
  ];
  return {
    pageSize,
    errorType: topErrorType,
    walks: [errorTypeWalk, hasErrorWalk],
    search,
    noMatchTerm,
    points,
    problems,
  };
}

/** Sequential requests to the service, interleaved like the page latency, each within its time budget. */
export async function measureFindingLatency(
  service: HttpTarget,
  token: string,
  points: FindingPoint[],
  options: FindingSettings,
) {
  const sampled = await sampleSequentially(
    points.map((point) => `${service.baseUrl}${point.path}`),
    token,
    options,
  );
  return points.map((point, index) => ({ key: point.key, ...sampled[index] }));
}

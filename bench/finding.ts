import { containsPattern } from '../src/execution-items/item-query';
import { withClient } from './database';
import type { LoadedRun } from './dataset';
import { sampleSequentially, timedGet, type SampledLatency } from './http-client';
import type { HttpTarget } from './servers';
import type { FindingSettings } from './settings';

/**
 * Finding items in the target run: filtered pages (first, and deepest by cursor), search, the
 * stats route. Service only: the baseline serves the plain page and nothing else.
 */

export type FindingKey =
  | 'unfiltered'
  | 'errorType-first'
  | 'errorType-deepest'
  | 'hasError-first'
  | 'hasError-deepest'
  | 'search'
  | 'search-none'
  | 'stats';

export interface FindingPoint {
  key: FindingKey;
  /** What the report calls it. */
  label: string;
  path: string;
  /** The items on the page; null for stats. */
  items: number | null;
}

/** What walking a filter's `nextCursor` from its first page to its last found. */
export interface CursorWalk {
  filter: string;
  /** Items the run's counters hold for the filter. */
  expectedItems: number;
  totalCount: number;
  pages: number;
  items: number;
  duplicates: number;
  /** Items that do not satisfy the filter. */
  wrongItems: number;
  /** The request with the last cursor (the one that leads to the last page), and that page. */
  deepest: { path: string; page: number; items: number };
}

export interface SearchShare {
  term: string;
  /** Items of the target run whose displayName or externalIdValue holds the term (SQL, ILIKE). */
  matches: number;
  runItems: number;
  fraction: number;
}

export interface FindingSetup {
  pageSize: number;
  /** The most frequent error type of the target run. */
  errorType: string;
  walks: CursorWalk[];
  search: SearchShare;
  noMatchTerm: string;
  points: FindingPoint[];
  /** Wrong answers found while preparing (none expected). */
  problems: string[];
}

export interface FindingLatency extends SampledLatency {
  key: FindingKey;
}

interface ListedItem {
  id: string;
  externalIdValue: string | null;
  displayName: string | null;
  errorType: string | null;
}

interface ItemsPage {
  items: ListedItem[];
  totalCount: number;
  page: number;
  nextCursor?: string | null;
}

/** A run is read for at most this many pages by cursor (the walk would otherwise not end on a bug). */
const MAX_WALK_PAGES = 100_000;

type GetJson = <T>(path: string) => Promise<T>;

async function walkCursor(
  get: GetJson,
  filter: string,
  firstPath: string,
  expectedItems: number,
  accepts: (item: ListedItem) => boolean,
): Promise<CursorWalk> {
  const seen = new Set<string>();
  const walk = { filter, expectedItems, totalCount: NaN, pages: 0, items: 0, duplicates: 0, wrongItems: 0 };
  for (let path = firstPath; ; ) {
    const page = await get<ItemsPage>(path);
    if (++walk.pages === 1) walk.totalCount = page.totalCount;
    for (const item of page.items) {
      walk.items += 1;
      if (seen.has(item.id)) walk.duplicates += 1;
      seen.add(item.id);
      if (!accepts(item)) walk.wrongItems += 1;
    }
    if (!page.nextCursor) return { ...walk, deepest: { path, page: page.page, items: page.items.length } };
    if (walk.pages >= MAX_WALK_PAGES) throw new Error(`${filter}: still a nextCursor after ${walk.pages} pages`);
    // The same query with the cursor added: a cursor may come with the parameters that made it.
    path = `${firstPath}&${new URLSearchParams({ cursor: page.nextCursor }).toString()}`;
  }
}

function walkProblems(walk: CursorWalk, pageSize: number): string[] {
  const lastPage = Math.max(1, Math.ceil(walk.expectedItems / pageSize));
  return [
    walk.totalCount !== walk.expectedItems && `totalCount ${walk.totalCount}, the counters hold ${walk.expectedItems}`,
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
): Promise<FindingSetup> {
  const { pageSize, searchTerm, noMatchTerm } = settings;
  const facts = await runFacts(url, run.id, searchTerm);
  const get: GetJson = async <T>(path: string) => {
    const response = await timedGet(`${service.baseUrl}${path}`, token);
    if (response.status !== 200)
      throw new Error(`${service.name} GET ${path} answered ${response.status}: ${response.body.slice(0, 300)}`);
    return JSON.parse(response.body) as T;
  };
  const items = (query: Record<string, string>) =>
    `/api/v1/activities/${run.id}/items?${new URLSearchParams({ ...query, pageSize: String(pageSize) }).toString()}`;
  const { topErrorType } = facts;
  const [errorTypeWalk, hasErrorWalk] = [
    await walkCursor(
      get,
      `errorType=${topErrorType}`,
      items({ errorType: topErrorType }),
      facts.topErrorTypeItems,
      (item) => item.errorType === topErrorType,
    ),
    await walkCursor(get, 'hasError=true', items({ hasError: 'true' }), facts.errorItemCount, (item) => !!item.errorType),
  ];
  const search = {
    term: searchTerm,
    matches: facts.searchMatches,
    runItems: facts.itemCount,
    fraction: facts.searchMatches / facts.itemCount,
  };
  const statsPath = `/api/v1/activities/${run.id}/stats`;
  const firstItems = (count: number) => Math.min(pageSize, count);
  const deepest = (walk: CursorWalk, key: FindingKey): FindingPoint => ({
    key,
    label: `${walk.filter}, deepest page (${walk.deepest.page.toLocaleString('en-US')}, ${walk.deepest.items} items, by cursor)`,
    path: walk.deepest.path,
    items: walk.deepest.items,
  });
  const points: FindingPoint[] = [
    { key: 'unfiltered', label: 'no filter, page 1', path: items({ page: '1' }), items: firstItems(facts.itemCount) },
    {
      key: 'errorType-first',
      label: `${errorTypeWalk.filter}, page 1`,
      path: items({ errorType: topErrorType }),
      items: firstItems(facts.topErrorTypeItems),
    },
    deepest(errorTypeWalk, 'errorType-deepest'),
    {
      key: 'hasError-first',
      label: 'hasError=true, page 1',
      path: items({ hasError: 'true' }),
      items: firstItems(facts.errorItemCount),
    },
    deepest(hasErrorWalk, 'hasError-deepest'),
    { key: 'search', label: `search=${searchTerm}, page 1`, path: items({ search: searchTerm }), items: firstItems(search.matches) },
    { key: 'search-none', label: `search=${noMatchTerm}, page 1`, path: items({ search: noMatchTerm }), items: 0 },
    { key: 'stats', label: 'GET /activities/{id}/stats', path: statsPath, items: null },
  ];
  const problems = [
    ...walkProblems(errorTypeWalk, pageSize),
    ...walkProblems(hasErrorWalk, pageSize),
    ...(await checked(`search=${searchTerm}`, async () => {
      const page = await get<ItemsPage>(items({ search: searchTerm }));
      const holds = (item: ListedItem) =>
        [item.displayName, item.externalIdValue].some((value) => value?.toLowerCase().includes(searchTerm.toLowerCase()));
      const wrong = page.items.filter((item) => !holds(item)).length;
      return [
        page.totalCount !== search.matches && `totalCount ${page.totalCount}, PostgreSQL counts ${search.matches} matches`,
        page.items.length !== firstItems(search.matches) &&
          `${page.items.length} items on page 1, expected ${firstItems(search.matches)}`,
        wrong > 0 && `${wrong} items on page 1 do not hold the term`,
      ];
    })),
    ...(await checked(`search=${noMatchTerm}`, async () => {
      const page = await get<ItemsPage>(items({ search: noMatchTerm }));
      return [(page.totalCount !== 0 || page.items.length !== 0) && `${page.totalCount} matches, none expected`];
    })),
    ...(await checked('stats', async () => {
      const stats = await get<{
        totalCount: number;
        itemsWithErrors: number;
        errorTypes?: Record<string, number>;
        outcomeTypes?: Record<string, number>;
      }>(statsPath);
      return [
        stats.totalCount !== facts.itemCount && `totalCount ${stats.totalCount}, item_count ${facts.itemCount}`,
        stats.itemsWithErrors !== facts.errorItemCount &&
          `itemsWithErrors ${stats.itemsWithErrors}, error_item_count ${facts.errorItemCount}`,
        stats.errorTypes?.[topErrorType] !== facts.topErrorTypeItems &&
          `errorTypes.${topErrorType} ${stats.errorTypes?.[topErrorType]}`,
        sortedEntries(stats.outcomeTypes ?? {}) !== sortedEntries(facts.outcomeTypeCounts) &&
          'outcomeTypes differ from outcome_type_counts',
      ];
    })),
  ];
  return { pageSize, errorType: topErrorType, walks: [errorTypeWalk, hasErrorWalk], search, noMatchTerm, points, problems };
}

/** Sequential requests to the service, interleaved like the page latency, each within its time budget. */
export async function measureFindingLatency(
  service: HttpTarget,
  token: string,
  points: FindingPoint[],
  options: FindingSettings,
): Promise<FindingLatency[]> {
  const sampled = await sampleSequentially(
    points.map((point) => `${service.baseUrl}${point.path}`),
    token,
    options,
  );
  return points.map((point, index) => ({ key: point.key, ...sampled[index] }));
}

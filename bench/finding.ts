import { withClient } from './database';
import { timedGet } from './http-client';
import type { LoadedRun } from './dataset';
import type { HttpTarget } from './servers';
import type { FindingSettings } from './settings';
import { median, percentile } from './stats';

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
  /** The page the response reports and the items on it; null for stats. */
  page: number | null;
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
  /** The most frequent error type of the target run, and its items. */
  errorType: string;
  walks: CursorWalk[];
  search: SearchShare;
  noMatchTerm: string;
  points: FindingPoint[];
  /** Wrong answers found while preparing (none expected). */
  problems: string[];
}

export interface FindingLatency {
  key: FindingKey;
  medianMs: number;
  p99Ms: number;
  samples: number;
  /** Answers other than 200 (not sampled), and the first of them. */
  failures: number;
  firstFailure: string | null;
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

interface RunStats {
  totalCount: number;
  itemsWithErrors: number;
  errorTypes: Record<string, number>;
  outcomeTypes: Record<string, number>;
}

/** A run is read for at most this many pages by cursor (the walk would otherwise not end on a bug). */
const MAX_WALK_PAGES = 100_000;

function itemsQuery(activityId: string, query: Record<string, string>): string {
  return `/api/v1/activities/${activityId}/items?${new URLSearchParams(query).toString()}`;
}

/** The same query with a cursor added: a cursor may come with the parameters that made it. */
function withCursor(path: string, cursor: string): string {
  return `${path}&${new URLSearchParams({ cursor }).toString()}`;
}

async function getJson<T>(target: HttpTarget, path: string, token: string): Promise<T> {
  const response = await timedGet(`${target.baseUrl}${path}`, token);
  if (response.status !== 200)
    throw new Error(`${target.name} GET ${path} answered ${response.status}: ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body) as T;
}

async function walkCursor(
  target: HttpTarget,
  token: string,
  filter: string,
  firstPath: string,
  expectedItems: number,
  accepts: (item: ListedItem) => boolean,
): Promise<CursorWalk> {
  const seen = new Set<string>();
  const walk = { filter, expectedItems, totalCount: NaN, pages: 0, items: 0, duplicates: 0, wrongItems: 0 };
  let path = firstPath;
  for (;;) {
    const page = await getJson<ItemsPage>(target, path, token);
    walk.pages += 1;
    if (walk.pages === 1) walk.totalCount = page.totalCount;
    for (const item of page.items) {
      walk.items += 1;
      if (seen.has(item.id)) walk.duplicates += 1;
      seen.add(item.id);
      if (!accepts(item)) walk.wrongItems += 1;
    }
    if (!page.nextCursor) return { ...walk, deepest: { path, page: page.page, items: page.items.length } };
    if (walk.pages >= MAX_WALK_PAGES)
      throw new Error(`${filter}: still a nextCursor after ${walk.pages} pages`);
    path = withCursor(firstPath, page.nextCursor);
  }
}

function walkProblems(walk: CursorWalk, pageSize: number): string[] {
  const problems: string[] = [];
  const lastPage = Math.max(1, Math.ceil(walk.expectedItems / pageSize));
  if (walk.totalCount !== walk.expectedItems)
    problems.push(`totalCount ${walk.totalCount}, the counters hold ${walk.expectedItems}`);
  if (walk.items !== walk.expectedItems)
    problems.push(`the cursor walk returned ${walk.items} items, expected ${walk.expectedItems}`);
  if (walk.duplicates > 0) problems.push(`${walk.duplicates} items returned twice`);
  if (walk.wrongItems > 0) problems.push(`${walk.wrongItems} items do not match the filter`);
  if (walk.deepest.page !== lastPage)
    problems.push(`the last cursor led to page ${walk.deepest.page}, not ${lastPage}`);
  return problems.map((problem) => `${walk.filter}: ${problem}`);
}

interface RunFacts {
  itemCount: number;
  errorItemCount: number;
  topErrorType: string;
  topErrorTypeItems: number;
  /** Items per outcome type. */
  outcomeTypeCounts: Record<string, number>;
}

/** The target run's counters (checked against its rows when the dataset was loaded). */
async function runFacts(url: string, activityId: string): Promise<RunFacts> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{
      item_count: number;
      error_item_count: number;
      top_error_type: string | null;
      top_error_type_items: number | null;
      outcome_type_counts: Record<string, number>;
    }>(
      `SELECT item_count, error_item_count, outcome_type_counts,
              top.key AS top_error_type, top.value::int AS top_error_type_items
         FROM activities a
         LEFT JOIN LATERAL (SELECT key, value FROM jsonb_each_text(a.error_type_counts)
                             ORDER BY value::int DESC, key LIMIT 1) top ON true
        WHERE a.id = $1`,
      [activityId],
    );
    const row = rows[0];
    if (!row?.top_error_type) throw new Error(`the target run ${activityId} has no errors to filter on`);
    return {
      itemCount: row.item_count,
      errorItemCount: row.error_item_count,
      topErrorType: row.top_error_type,
      topErrorTypeItems: row.top_error_type_items ?? 0,
      outcomeTypeCounts: row.outcome_type_counts,
    };
  });
}

/** `%`, `_` and `\` as themselves in a LIKE pattern. */
function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}

/** How many items of the run the term matches, counted by PostgreSQL (not by the service). */
async function searchShare(
  url: string,
  run: LoadedRun,
  term: string,
  runItems: number,
): Promise<SearchShare> {
  return withClient(url, async (client) => {
    const { rows } = await client.query<{ matches: string }>(
      `SELECT count(*) AS matches FROM execution_items
        WHERE activity_id = $1 AND (display_name ILIKE $2 OR external_id_value ILIKE $2)`,
      [run.id, `%${likeLiteral(term)}%`],
    );
    const matches = Number(rows[0].matches);
    return { term, matches, runItems, fraction: matches / runItems };
  });
}

function holds(item: ListedItem, term: string): boolean {
  const lower = term.toLowerCase();
  return [item.displayName, item.externalIdValue].some((value) => value?.toLowerCase().includes(lower));
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const entries = (counts: Record<string, number>) =>
    JSON.stringify(Object.entries(counts).sort(([x], [y]) => x.localeCompare(y)));
  return entries(a) === entries(b);
}

async function searchProblems(
  target: HttpTarget,
  token: string,
  path: string,
  share: SearchShare,
  pageSize: number,
): Promise<string[]> {
  const page = await getJson<ItemsPage>(target, path, token);
  const problems: string[] = [];
  if (page.totalCount !== share.matches)
    problems.push(`totalCount ${page.totalCount}, PostgreSQL counts ${share.matches} matches`);
  if (page.items.length !== Math.min(pageSize, share.matches))
    problems.push(`${page.items.length} items on page 1, expected ${Math.min(pageSize, share.matches)}`);
  const wrong = page.items.filter((item) => !holds(item, share.term)).length;
  if (wrong > 0) problems.push(`${wrong} items on page 1 do not hold the term`);
  return problems.map((problem) => `search=${share.term}: ${problem}`);
}

async function noMatchProblems(target: HttpTarget, token: string, path: string, term: string) {
  const page = await getJson<ItemsPage>(target, path, token);
  return page.totalCount !== 0 || page.items.length !== 0
    ? [`search=${term}: ${page.totalCount} matches, none expected`]
    : [];
}

/** A check's problems, or the failure of its request as one (a timeout is a finding too). */
async function checked(label: string, check: () => Promise<string[]>): Promise<string[]> {
  try {
    return await check();
  } catch (error) {
    return [`${label}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

async function statsProblems(target: HttpTarget, token: string, path: string, facts: RunFacts) {
  const stats = await getJson<RunStats>(target, path, token);
  const problems: string[] = [];
  if (stats.totalCount !== facts.itemCount)
    problems.push(`totalCount ${stats.totalCount}, item_count ${facts.itemCount}`);
  if (stats.itemsWithErrors !== facts.errorItemCount)
    problems.push(`itemsWithErrors ${stats.itemsWithErrors}, error_item_count ${facts.errorItemCount}`);
  if (stats.errorTypes?.[facts.topErrorType] !== facts.topErrorTypeItems)
    problems.push(`errorTypes.${facts.topErrorType} ${stats.errorTypes?.[facts.topErrorType]}`);
  if (!sameCounts(stats.outcomeTypes ?? {}, facts.outcomeTypeCounts))
    problems.push('outcomeTypes differ from outcome_type_counts');
  return problems.map((problem) => `stats: ${problem}`);
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
  const { pageSize } = settings;
  const facts = await runFacts(url, run.id);
  const size = String(pageSize);
  const errorTypePath = itemsQuery(run.id, { errorType: facts.topErrorType, pageSize: size });
  const hasErrorPath = itemsQuery(run.id, { hasError: 'true', pageSize: size });
  const walks = [
    await walkCursor(
      service,
      token,
      `errorType=${facts.topErrorType}`,
      errorTypePath,
      facts.topErrorTypeItems,
      (item) => item.errorType === facts.topErrorType,
    ),
    await walkCursor(
      service,
      token,
      'hasError=true',
      hasErrorPath,
      facts.errorItemCount,
      (item) => item.errorType !== null,
    ),
  ];
  const search = await searchShare(url, run, settings.searchTerm, facts.itemCount);
  const searchPath = itemsQuery(run.id, { search: settings.searchTerm, pageSize: size });
  const noMatchPath = itemsQuery(run.id, { search: settings.noMatchTerm, pageSize: size });
  const statsPath = `/api/v1/activities/${run.id}/stats`;
  const problems = [
    ...walks.flatMap((walk) => walkProblems(walk, pageSize)),
    ...(await checked(`search=${search.term}`, () =>
      searchProblems(service, token, searchPath, search, pageSize),
    )),
    ...(await checked(`search=${settings.noMatchTerm}`, () =>
      noMatchProblems(service, token, noMatchPath, settings.noMatchTerm),
    )),
    ...(await checked('stats', () => statsProblems(service, token, statsPath, facts))),
  ];
  const [errorTypeWalk, hasErrorWalk] = walks;
  const firstItems = (walk: CursorWalk) => Math.min(pageSize, walk.expectedItems);
  const deepestLabel = (walk: CursorWalk) =>
    `${walk.filter}, deepest page (${walk.deepest.page.toLocaleString('en-US')}, ${walk.deepest.items} items, by cursor)`;
  const points: FindingPoint[] = [
    {
      key: 'unfiltered',
      label: 'no filter, page 1',
      path: itemsQuery(run.id, { page: '1', pageSize: size }),
      page: 1,
      items: Math.min(pageSize, facts.itemCount),
    },
    {
      key: 'errorType-first',
      label: `${errorTypeWalk.filter}, page 1`,
      path: errorTypePath,
      page: 1,
      items: firstItems(errorTypeWalk),
    },
    {
      key: 'errorType-deepest',
      label: deepestLabel(errorTypeWalk),
      path: errorTypeWalk.deepest.path,
      page: errorTypeWalk.deepest.page,
      items: errorTypeWalk.deepest.items,
    },
    {
      key: 'hasError-first',
      label: 'hasError=true, page 1',
      path: hasErrorPath,
      page: 1,
      items: firstItems(hasErrorWalk),
    },
    {
      key: 'hasError-deepest',
      label: deepestLabel(hasErrorWalk),
      path: hasErrorWalk.deepest.path,
      page: hasErrorWalk.deepest.page,
      items: hasErrorWalk.deepest.items,
    },
    {
      key: 'search',
      label: `search=${search.term}, page 1`,
      path: searchPath,
      page: 1,
      items: Math.min(pageSize, search.matches),
    },
    {
      key: 'search-none',
      label: `search=${settings.noMatchTerm}, page 1`,
      path: noMatchPath,
      page: 1,
      items: 0,
    },
    { key: 'stats', label: 'GET /activities/{id}/stats', path: statsPath, page: null, items: null },
  ];
  return {
    pageSize,
    errorType: facts.topErrorType,
    walks,
    search,
    noMatchTerm: settings.noMatchTerm,
    points,
    problems,
  };
}

/**
 * Sequential requests to the service, interleaved like the page latency: each repetition reads
 * every point once (the order reversed every other repetition). Warm-up requests are not kept.
 * A point that has spent its time budget and holds `minSamples` samples is left out of the
 * remaining repetitions (and out of the remaining warm-up once it has spent a quarter of it).
 */
export async function measureFindingLatency(
  service: HttpTarget,
  token: string,
  points: FindingPoint[],
  options: Pick<FindingSettings, 'requestsPerPoint' | 'warmupPerPoint' | 'secondsPerPoint' | 'minSamples'>,
): Promise<FindingLatency[]> {
  const samples = new Map<FindingKey, number[]>(points.map((point) => [point.key, []]));
  const spentMs = new Map<FindingKey, number>(points.map((point) => [point.key, 0]));
  const failures = new Map<FindingKey, string[]>(points.map((point) => [point.key, []]));
  const budgetMs = options.secondsPerPoint * 1000;
  // A slow request needs little warming: its warm-up stops at a quarter of its budget.
  const spent = (point: FindingPoint, warmingUp: boolean) =>
    warmingUp
      ? spentMs.get(point.key)! > budgetMs / 4
      : spentMs.get(point.key)! > budgetMs && samples.get(point.key)!.length >= options.minSamples;
  const total = options.warmupPerPoint + options.requestsPerPoint;
  for (let repetition = 0; repetition < total; repetition++) {
    const ordered = repetition % 2 === 0 ? points : [...points].reverse();
    for (const point of ordered) {
      if (spent(point, repetition < options.warmupPerPoint)) continue;
      const response = await timedGet(`${service.baseUrl}${point.path}`, token);
      spentMs.set(point.key, spentMs.get(point.key)! + response.ms);
      // A failure (a statement timeout, say) is a finding, not a reason to stop the bench.
      if (response.status !== 200)
        failures
          .get(point.key)!
          .push(`${response.status} after ${response.ms.toFixed(0)} ms: ${response.body.slice(0, 200)}`);
      else if (repetition >= options.warmupPerPoint) samples.get(point.key)!.push(response.ms);
    }
  }
  return points.map((point) => {
    const values = samples.get(point.key)!;
    const failed = failures.get(point.key)!;
    return {
      key: point.key,
      medianMs: median(values),
      p99Ms: percentile(values, 99),
      samples: values.length,
      failures: failed.length,
      firstFailure: failed[0] ?? null,
    };
  });
}

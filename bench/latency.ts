/** Page latency: the first, middle and last page of the target run on both servers. */
import { sampleSequentially, timedGet, type SampledLatency, type SamplingOptions } from './http-client';
import { itemsPath, type HttpTarget, type TargetName } from './servers';

/** A page the bench reads: first, middle or last of the target run at one page size. */
export interface PagePoint {
  label: 'first' | 'middle' | 'last';
  pageSize: number;
  page: number;
  expectedItems: number;
}

export interface PointLatency extends SampledLatency {
  target: TargetName;
  point: PagePoint;
}

/** First, middle and last page of a run of `totalItems` at pageSize 100 and 25. */
export function pagePoints(totalItems: number): PagePoint[] {
  return [100, 25].flatMap((pageSize) => {
    const lastPage = Math.ceil(totalItems / pageSize);
    const pages = { first: 1, middle: Math.ceil(lastPage / 2), last: lastPage };
    return Object.entries(pages).map(([label, page]) => ({
      label: label as PagePoint['label'],
      pageSize,
      page,
      expectedItems: Math.min(pageSize, totalItems - (page - 1) * pageSize),
    }));
  });
}

/** What is wrong with a response for a point, or null when it is the expected page. */
function responseProblem(body: string, status: number, point: PagePoint, totalItems: number): string | null {
  if (status !== 200) return `status ${status}: ${body.slice(0, 200)}`;
  const page = JSON.parse(body) as { items: unknown[]; totalCount: number; page: number; pageSize: number };
  if (page.items.length !== point.expectedItems)
    return `${page.items.length} items, expected ${point.expectedItems}`;
  if (page.totalCount !== totalItems) return `totalCount ${page.totalCount}, expected ${totalItems}`;
  if (page.page !== point.page || page.pageSize !== point.pageSize)
    return `echoed page ${page.page}/${page.pageSize}`;
  return null;
}

/**
 * Reads every point from every target once: each answer must be the expected page, and the
 * baseline's body must equal the service's (same items, same envelope).
 */
export async function checkPages(
  targets: HttpTarget[],
  token: string,
  activityId: string,
  points: PagePoint[],
  totalItems: number,
): Promise<string[]> {
  const problems: string[] = [];
  for (const point of points) {
    const bodies = new Set<string>();
    for (const target of targets) {
      const { body, status } = await timedGet(
        `${target.baseUrl}${itemsPath(activityId, point.page, point.pageSize)}`,
        token,
      );
      const problem = responseProblem(body, status, point, totalItems);
      if (problem) problems.push(`${target.name} page ${point.page} (size ${point.pageSize}): ${problem}`);
      else bodies.add(JSON.stringify(JSON.parse(body)));
    }
    if (bodies.size > 1)
      problems.push(`page ${point.page} (size ${point.pageSize}): service and baseline bodies differ`);
  }
  return problems;
}

/** Sequential requests to every point of every target, interleaved (`sampleSequentially`). */
export async function measureLatency(
  targets: HttpTarget[],
  token: string,
  activityId: string,
  points: PagePoint[],
  options: SamplingOptions,
): Promise<PointLatency[]> {
  const pairs = points.flatMap((point) => targets.map((target) => ({ target, point })));
  const urls = pairs.map(
    ({ target, point }) => `${target.baseUrl}${itemsPath(activityId, point.page, point.pageSize)}`,
  );
  const sampled = await sampleSequentially(urls, token, options);
  const failed = sampled.find((entry) => entry.failures > 0);
  if (failed) throw new Error(`a page answered ${failed.firstFailure} during latency`);
  return pairs.map(({ target, point }, index) => ({ target: target.name, point, ...sampled[index] }));
}

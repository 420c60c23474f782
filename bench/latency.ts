import { timedGet } from './http-client';
import { itemsPath, type HttpTarget, type TargetName } from './servers';
import { median, percentile } from './stats';

/** A page the bench reads: first, middle or last of the target run at one page size. */
export interface PagePoint {
  label: 'first' | 'middle' | 'last';
  pageSize: number;
  page: number;
  expectedItems: number;
}

export interface PointLatency {
  target: TargetName;
  point: PagePoint;
  medianMs: number;
  p99Ms: number;
  samples: number;
}

export const PAGE_SIZES = [100, 25] as const;

/** First, middle and last page of a run of `totalItems` at pageSize 100 and 25. */
export function pagePoints(totalItems: number): PagePoint[] {
  return PAGE_SIZES.flatMap((pageSize) => {
    const lastPage = Math.ceil(totalItems / pageSize);
    const expected = (page: number) => Math.min(pageSize, totalItems - (page - 1) * pageSize);
    const pages: Array<[PagePoint['label'], number]> = [
      ['first', 1],
      ['middle', Math.ceil(lastPage / 2)],
      ['last', lastPage],
    ];
    return pages.map(([label, page]) => ({ label, pageSize, page, expectedItems: expected(page) }));
  });
}

interface Envelope {
  items: unknown[];
  totalCount: number;
  page: number;
  pageSize: number;
}

/** What is wrong with a response for a point, or null when it is the expected page. */
function responseProblem(body: string, status: number, point: PagePoint, totalItems: number): string | null {
  if (status !== 200) return `status ${status}: ${body.slice(0, 200)}`;
  const page = JSON.parse(body) as Envelope;
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
    const bodies = new Map<TargetName, string>();
    for (const target of targets) {
      const response = await timedGet(
        `${target.baseUrl}${itemsPath(activityId, point.page, point.pageSize)}`,
        token,
      );
      const problem = responseProblem(response.body, response.status, point, totalItems);
      if (problem) problems.push(`${target.name} page ${point.page} (size ${point.pageSize}): ${problem}`);
      else bodies.set(target.name, JSON.stringify(JSON.parse(response.body)));
    }
    const [first, ...others] = [...bodies.values()];
    if (bodies.size === targets.length && others.some((body) => body !== first)) {
      problems.push(`page ${point.page} (size ${point.pageSize}): service and baseline bodies differ`);
    }
  }
  return problems;
}

/**
 * Sequential requests, interleaved: each repetition reads every point from every target (the
 * target order alternating), so drift affects all points alike. Warm-up requests are not kept.
 */
export async function measureLatency(
  targets: HttpTarget[],
  token: string,
  activityId: string,
  points: PagePoint[],
  options: { requestsPerPoint: number; warmupPerPoint: number },
): Promise<PointLatency[]> {
  const samples = new Map<string, number[]>();
  const key = (target: TargetName, point: PagePoint) => `${target}:${point.pageSize}:${point.page}`;
  const total = options.warmupPerPoint + options.requestsPerPoint;
  for (let repetition = 0; repetition < total; repetition++) {
    const ordered = repetition % 2 === 0 ? targets : [...targets].reverse();
    for (const point of points) {
      for (const target of ordered) {
        const response = await timedGet(
          `${target.baseUrl}${itemsPath(activityId, point.page, point.pageSize)}`,
          token,
        );
        if (response.status !== 200)
          throw new Error(`${target.name} answered ${response.status} during latency`);
        if (repetition < options.warmupPerPoint) continue;
        const list = samples.get(key(target.name, point)) ?? [];
        list.push(response.ms);
        samples.set(key(target.name, point), list);
      }
    }
  }
  return targets.flatMap((target) =>
    points.map((point) => {
      const values = samples.get(key(target.name, point)) ?? [];
      return {
        target: target.name,
        point,
        medianMs: median(values),
        p99Ms: percentile(values, 99),
        samples: values.length,
      };
    }),
  );
}

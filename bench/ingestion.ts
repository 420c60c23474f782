import { nodeTypeScriptArgs, runToCompletion } from './processes';

export type IngestionMethod = 'service' | 'copy';

export interface IngestionRequest {
  round: number;
  items: number;
  batchSize: number;
  seed: number;
  errorRate: number;
  order: IngestionMethod[];
}

export interface MethodResult {
  method: IngestionMethod;
  activityId: string;
  rows: number;
  ms: number;
  rowsPerSecond: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  rssPeakBytes: number;
}

export interface IngestionResult {
  round: number;
  order: IngestionMethod[];
  appendMethod: string;
  results: MethodResult[];
  /** Rows of the two runs that differ in any column but id (0 expected). */
  differingRows: number;
  countersIdentical: boolean;
}

export const RESULT_MARKER = 'BENCH_RESULT ';

/** Runs one ingestion round in a child process (bench/ingestion-worker.ts) and returns its result. */
export async function runIngestionRound(
  databaseUrl: string,
  options: { round: number; items: number; batchSize: number; errorRate: number; seed: number },
): Promise<IngestionResult> {
  const order: IngestionMethod[] = options.round % 2 === 1 ? ['service', 'copy'] : ['copy', 'service'];
  const request = { ...options, order };
  const { PATH, HOME, LANG, TZ } = process.env;
  const stdout = await runToCompletion(
    'ingestion',
    process.execPath,
    [...nodeTypeScriptArgs('ingestion-worker.ts', ['--expose-gc']), JSON.stringify(request)],
    { env: { PATH, HOME, LANG, TZ, DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: '10' } },
  );
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_MARKER));
  if (!line) throw new Error(`ingestion worker printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(RESULT_MARKER.length)) as IngestionResult;
}

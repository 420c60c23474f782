/**
 * The baseline: the least a server can do to serve the same page. Plain Fastify, a pg Pool of
 * 10 connections, the service's own page SQL, paging and item mapper (from its build, see
 * `startBaseline`), and the same bearer-token work (HS256 verification with jsonwebtoken, `exp`
 * required, the `Administrator` role). No Nest, no TypeORM in the request path.
 *
 * Env: DATABASE_URL, AUTH_JWT_SECRET, PORT (HOST 127.0.0.1).
 */
import Fastify, { type FastifyReply } from 'fastify';
import { verify, type JwtPayload } from 'jsonwebtoken';
import { Pool } from 'pg';
import { PAGE_BY_SEQUENCE_SQL, type PageBySequenceRow } from '../src/execution-items/execution-items.query';
import { resolveOptions } from '../src/execution-items/execution-items.options';
import { GUID_PATTERN } from '../src/execution-items/guid';
import { parseItemQuery } from '../src/execution-items/item-query';
import { clampPage, encodeCursor, offsetOf, pagingFields } from '../src/execution-items/paging';
import { toExecutionItemResponse } from '../src/execution-items/responses/execution-item.response';
import { RUN_PROFILE_TARGET_TYPE } from '../src/execution-items/vocabulary';

const INTEGER = /^-?\d+$/;
/** The module's default page limits (25, at most 100) and the unfiltered query in sequence order. */
const LIMITS = resolveOptions({});
const UNFILTERED = parseItemQuery({});

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

const secret = requiredEnv('AUTH_JWT_SECRET');
const pool = new Pool({
  connectionString: requiredEnv('DATABASE_URL'),
  max: 10,
  application_name: 'ei-bench-baseline',
});

function isAdministrator(authorization: string | undefined): boolean {
  const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  if (!token) return false;
  try {
    const claims = verify(token, secret, { algorithms: ['HS256'] }) as JwtPayload;
    const roles: unknown = claims.role;
    return (
      typeof claims.exp === 'number' &&
      (roles === 'Administrator' || (Array.isArray(roles) && roles.includes('Administrator')))
    );
  } catch {
    return false;
  }
}

function optionalInteger(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  return INTEGER.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : null;
}

function fail(reply: FastifyReply, status: number, code: string) {
  return reply
    .code(status)
    .send({ code, message: code, details: null, validationErrors: null, timestamp: new Date() });
}

const app = Fastify({ logger: false });

app.get<{ Params: { id: string }; Querystring: { page?: string; pageSize?: string } }>(
  '/api/v1/activities/:id/items',
  async (request, reply) => {
    if (!isAdministrator(request.headers.authorization)) return fail(reply, 401, 'UNAUTHORISED');
    const { id } = request.params;
    const page = optionalInteger(request.query.page);
    const pageSize = optionalInteger(request.query.pageSize);
    if (!GUID_PATTERN.test(id) || page === null || pageSize === null)
      return fail(reply, 400, 'VALIDATION_ERROR');
    const window = clampPage(page, pageSize, LIMITS);
    const { rows } = await pool.query<PageBySequenceRow>(PAGE_BY_SEQUENCE_SQL, [
      id,
      offsetOf(window),
      window.pageSize,
    ]);
    if (rows.length === 0) return fail(reply, 404, 'NOT_FOUND');
    const [{ target_type: targetType, item_count: totalCount }] = rows;
    if (targetType !== RUN_PROFILE_TARGET_TYPE) return fail(reply, 400, 'BAD_REQUEST');
    // As the service does: the statement has no ORDER BY; rows are put in sequence order here.
    const items = rows[0].id === null ? [] : rows.sort((a, b) => a.sequence - b.sequence);
    const last = items.at(-1);
    const nextCursor =
      last && last.sequence < totalCount
        ? encodeCursor({
            activityId: id.toLowerCase(),
            query: UNFILTERED,
            pageSize: window.pageSize,
            page: window.page + 1,
            after: [last.sequence],
          })
        : null;
    return { items: items.map(toExecutionItemResponse), ...pagingFields(window, totalCount), nextCursor };
  },
);

async function shutdown(): Promise<void> {
  await app.close();
  await pool.end();
  process.exit(0);
}
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());

app.listen({ host: '127.0.0.1', port: Number(requiredEnv('PORT')) }).catch((error: unknown) => {
  process.stderr.write(`baseline failed to start: ${String(error)}\n`);
  process.exit(1);
});

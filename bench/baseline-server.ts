/**
 * The baseline: the least a server can do to serve the same page. Plain Fastify, a pg Pool of
 * 10 connections, the service's page SQL and envelope, and the same bearer-token work (HS256
 * verification with jsonwebtoken, `exp` required, the `Administrator` role). No Nest, no TypeORM.
 *
 * Env: DATABASE_URL, AUTH_JWT_SECRET, PORT (HOST 127.0.0.1).
 */
import Fastify, { type FastifyReply } from 'fastify';
import { verify, type JwtPayload } from 'jsonwebtoken';
import { Pool } from 'pg';
import { PAGE_SQL, clampWindow, offsetOf, pageEnvelope, type PageRow } from './page-query';

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const INTEGER = /^-?\d+$/;

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
    const page = optionalInteger(request.query.page);
    const pageSize = optionalInteger(request.query.pageSize);
    if (!GUID.test(request.params.id) || page === null || pageSize === null)
      return fail(reply, 400, 'VALIDATION_ERROR');
    const window = clampWindow(page, pageSize);
    const { rows } = await pool.query<PageRow>(PAGE_SQL, [
      request.params.id,
      offsetOf(window),
      window.pageSize,
    ]);
    if (rows.length === 0) return fail(reply, 404, 'NOT_FOUND');
    if (rows[0].target_type !== 'ConnectedSystemRunProfile') return fail(reply, 400, 'BAD_REQUEST');
    return pageEnvelope(request.params.id, window, rows);
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

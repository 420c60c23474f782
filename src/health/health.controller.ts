import { Controller, Get, Inject, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
  type HealthIndicatorResult,
} from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
import { ReadConnections, type ReplicaStatus } from '../execution-items';
import { HEALTH_OPTIONS, type HealthOptions } from './health.options';
import { HealthCheckFilter } from './health-check.filter';

/**
 * Probes for an orchestrator or a load balancer: outside `/api`, without authentication or rate
 * limits, answered in terminus' own body (not the API's error envelope).
 */
@ApiTags('health')
@Controller('health')
@SkipThrottle()
@UseFilters(HealthCheckFilter)
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly reads: ReadConnections,
    @Inject(HEALTH_OPTIONS) private readonly options: HealthOptions,
  ) {}

  /** The process answers: 200 while it runs, during shutdown too (it is not stuck). */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness: the process answers.', operationId: 'live' })
  live(): HealthCheckResult {
    const process = { status: 'up' as const };
    return { status: 'ok', info: { process }, error: {}, details: { process } };
  }

  /**
   * Ready for traffic: the database (the primary) answers `SELECT 1` within the timeout, and no
   * shutdown has begun (terminus answers `shutting_down` from `beforeApplicationShutdown` on).
   * With read replicas, `replicas` reports each as the last background check found it; it is
   * always `up`, since reads go to the primary while no replica serves.
   */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: the database answers and no shutdown has begun.',
    description:
      'With read replicas (`DATABASE_REPLICA_URLS`) the body also has `replicas`: `status` is always `up` (reads go to the primary while no replica serves, so replicas never make the instance unready), and `servers` lists each replica as `{ server: "host:port/database", state: "up" | "lagging" | "down", lagMs: number | null }`, from the last background check.',
    operationId: 'ready',
  })
  ready(): Promise<HealthCheckResult> {
    const replicas = this.reads.report();
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: this.options.databaseTimeoutMs }),
      ...(replicas.length > 0 ? [() => this.replicasCheck(replicas)] : []),
    ]);
  }

  private replicasCheck(servers: ReplicaStatus[]): HealthIndicatorResult<'replicas'> {
    return this.indicators.check('replicas').up({ servers });
  }
}

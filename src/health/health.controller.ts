import { Controller, Get, Inject, UseFilters } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  HealthCheck,
  HealthCheckService,
  TypeOrmHealthIndicator,
  type HealthCheckResult,
} from '@nestjs/terminus';
import { SkipThrottle } from '@nestjs/throttler';
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
   * Ready for traffic: the database answers `SELECT 1` within the timeout, and no shutdown has
   * begun (terminus answers `shutting_down` from `beforeApplicationShutdown` on).
   */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness: the database answers and no shutdown has begun.',
    operationId: 'ready',
  })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.database.pingCheck('database', { timeout: this.options.databaseTimeoutMs }),
    ]);
  }
}

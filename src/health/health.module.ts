import { DynamicModule, Injectable, Logger, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { HEALTH_OPTIONS, type HealthOptions } from './health.options';

/** Terminus' failure messages through the application's logger (pino), not a console of its own. */
@Injectable()
class HealthCheckLogger extends Logger {
  constructor() {
    super('HealthCheck');
  }
}

/** `/health/live` and `/health/ready`. */
@Module({})
export class HealthModule {
  static forRoot(options: HealthOptions): DynamicModule {
    return {
      module: HealthModule,
      imports: [
        TerminusModule.forRoot({
          logger: HealthCheckLogger,
          errorLogStyle: 'json',
          // Readiness answers 503 (`shutting_down`) during this delay, while the server still
          // accepts connections, so that a load balancer stops sending traffic first.
          gracefulShutdownTimeoutMs: options.shutdownDelayMs,
        }),
      ],
      controllers: [HealthController],
      providers: [{ provide: HEALTH_OPTIONS, useValue: options }],
    };
  }
}

import { Logger as NestLogger } from '@nestjs/common';
import { NestFactory, type NestApplicationContext } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger, PinoLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { parseQueryString } from './execution-items';
import { createClientErrorHandler, replyToFrameworkError } from './http/framework-errors';
import type { AppConfig } from './config/app-config';
import { openDatabase } from './database/database-server';
import {
  createRootLogger,
  recordRequestFacts,
  requestIdFor,
  requestLoggingParams,
} from './logging/request-logging';
import { serveOpenApi } from './openapi/openapi-document';
import { registerHttpSecurity } from './http/http-security';
import { registerIngestBodies } from './http/ingest-body';
import { registerRequestChecks } from './http/request-checks';
import { registerWebUi } from './web-ui/web-ui';

export interface CreateAppOptions {
  /** `false`: Nest's own log lines off, and the pino logger silent unless `logDestination` is set. */
  logger?: false;
  /** Where the pino logger writes (tests read the lines from here); default stdout. */
  logDestination?: DestinationStream;
}

export interface RunningApp {
  app: NestFastifyApplication;
  /**
   * Closes the HTTP server and the pool, then the embedded database. With `SIGTERM`, readiness
   * answers 503 for `HEALTH_SHUTDOWN_DELAY_MS` first, while the server still serves.
   */
  close(signal?: string): Promise<void>;
}

/**
 * Builds the standalone service on Fastify: opens the database (starting the embedded one when
 * there is no `DATABASE_URL`), runs the migrations and wires the modules. Does not listen.
 */
export async function createApp(config: AppConfig, options: CreateAppOptions = {}): Promise<RunningApp> {
  const quiet = options.logger === false;
  const rootLogger = createRootLogger(
    quiet && !options.logDestination ? { ...config.logging, level: 'silent' } : config.logging,
    options.logDestination,
  );
  const logging = requestLoggingParams(rootLogger);
  // Nest's lines (the database start included, which comes before the app) go through pino too.
  const logger = quiet ? false : new Logger(new PinoLogger(logging), logging);
  NestLogger.overrideLogger(logger);
  const database = await openDatabase(config.database);
  try {
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot(config, database, logging),
      // Long path parameters reach validation (a clear 400) instead of the router's bare 414.
      new FastifyAdapter({
        // A query value with broken percent-encoding is a 400 naming it, not searched literally.
        routerOptions: { maxParamLength: 2048, querystringParser: parseQueryString },
        frameworkErrors: replyToFrameworkError,
        // What the HTTP parser refuses (a malformed request, headers over 16 KB) gets the envelope too.
        clientErrorHandler: createClientErrorHandler(rootLogger),
        // A request without Host reaches the app, which answers it in the envelope (Node's own
        // answer is a bare 400).
        http: { requireHostHeader: false },
        // Which peers may set X-Forwarded-For: request.ip (logs, per-address limits) follows it.
        trustProxy: config.trustProxy,
        requestIdHeader: false,
        genReqId: requestIdFor,
      }),
      { abortOnError: false, logger },
    );
    recordRequestFacts(app);
    await registerHttpSecurity(app);
    registerRequestChecks(app);
    serveOpenApi(app, { ui: config.apiDocsUi });
    await registerWebUi(app, config.ui);
    // Once a shutdown begins, every response closes its connection: the server's close waits
    // for open connections, and a keep-alive one left idle by a finished request would hold it
    // until the keep-alive timeout.
    let closing = false;
    app
      .getHttpAdapter()
      .getInstance()
      .addHook('onSend', async (_request, reply) => {
        if (closing) void reply.header('connection', 'close');
      });
    await app.init();
    registerIngestBodies(app);
    const stopCheckpoints = database.startCheckpoints(() => app.get(DataSource).query('CHECKPOINT'));
    return {
      app,
      close: async (signal?: string) => {
        closing = true;
        await stopCheckpoints();
        // The application class takes the signal and hands it to the shutdown hooks (terminus
        // waits HEALTH_SHUTDOWN_DELAY_MS on SIGTERM); the interface's close() does not list it.
        await (app as unknown as NestApplicationContext).close(signal);
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

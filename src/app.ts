import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from './app.module';
import { replyToFrameworkError } from './common/framework-errors';
import type { AppConfig } from './config/app-config';
import { openDatabase } from './database/database-server';

export interface RunningApp {
  app: NestFastifyApplication;
  /** Closes the HTTP server and the pool, then the embedded database. */
  close(): Promise<void>;
}

/**
 * Builds the standalone service on Fastify: opens the database (starting the embedded one when
 * there is no `DATABASE_URL`), runs the migrations and wires the modules. Does not listen.
 */
export async function createApp(config: AppConfig, options: { logger?: false } = {}): Promise<RunningApp> {
  const database = await openDatabase(config.database);
  try {
    const app = await NestFactory.create<NestFastifyApplication>(
      AppModule.forRoot(config, database),
      // Long path parameters reach validation (a clear 400) instead of the router's bare 414.
      new FastifyAdapter({
        routerOptions: { maxParamLength: 2048 },
        frameworkErrors: replyToFrameworkError,
      }),
      { abortOnError: false, ...options },
    );
    await app.init();
    return {
      app,
      close: async () => {
        await app.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

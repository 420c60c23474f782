import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { createApp } from './app';
import { signDevelopmentToken } from './auth/development-token';
import { ConfigError, type AppConfig } from './config/app-config';
import { DataDirLockedError } from './database/data-dir-lock';
import { loadConfiguration } from './config/configuration';
import { DEMO_ACTIVITIES, loadDemoData } from './demo/demo-data';
import { ExecutionRunsService } from './execution-items';

const logger = new Logger('Main');

async function bootstrap(): Promise<void> {
  const config = await loadConfiguration();
  const { app, close } = await createApp(config);
  if (config.demoData) await loadDemoData(app.get(ExecutionRunsService), app.get(DataSource));
  await app.listen(config.port, config.host);

  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  logger.log(`Listening on ${url}`);
  printDevelopmentAccess(config, url);

  let closing = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      if (closing) return;
      closing = true;
      logger.log(`${signal} received, shutting down`);
      // Requests in flight finish and the pool closes after the server; a shutdown that hangs
      // (a client that never reads its export, say) is cut off.
      setTimeout(() => {
        logger.error(`Shutdown took longer than ${config.shutdownTimeoutMs} ms; exiting`);
        process.exit(1);
      }, config.shutdownTimeoutMs).unref();
      close(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error(`Shutdown failed: ${String(error)}`);
          process.exit(1);
        },
      );
    });
  }
}

function printDevelopmentAccess(config: AppConfig, url: string): void {
  if (config.auth.kind !== 'secret' || !config.auth.generatedForDevelopment) return;
  const token = signDevelopmentToken(config.auth, config.roleClaim);
  const lines = [
    'No AUTH_JWT_SECRET or AUTH_JWKS_URI set: using a development secret generated for this process.',
    'Administrator token (valid 12 hours, until restart):',
    '',
    `  export TOKEN=${token}`,
    '',
    'Try:',
    '',
    `  curl -H "Authorization: Bearer $TOKEN" "${url}/api/v1/activities/${DEMO_ACTIVITIES.synchronisation}/items?page=1&pageSize=50"`,
    '',
    ...(config.ui.enabled ? ['Run viewer, signed in:', '', `  ${url}/#token=${token}`, ''] : []),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

bootstrap().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    logger.error(`Configuration error: ${error.message}`);
  } else if (error instanceof DataDirLockedError) {
    logger.error(error.message);
  } else {
    logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  process.exit(1);
});

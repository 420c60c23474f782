import 'reflect-metadata';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  API_KEY_USAGE,
  UsageError,
  describeCommandError,
  parseApiKeyCommand,
  runApiKeyCommand,
} from '../api-keys/api-key-command';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { ApiError } from '../common/api-error';
import { loadDatabaseSettings } from '../config/app-config';
import { openDatabase, type OpenDatabase } from '../database/database-server';
import { buildTypeOrmOptions } from '../database/typeorm-options';

@Module({})
class ApiKeyCommandModule {
  static forRoot(database: OpenDatabase): DynamicModule {
    return {
      module: ApiKeyCommandModule,
      imports: [
        TypeOrmModule.forRoot({ ...buildTypeOrmOptions(database), migrationsRun: true }),
        ApiKeysModule.forRoot({ cacheSeconds: 0 }),
      ],
    };
  }
}

/** `npm run apikey -- create|list|revoke`: manages API keys in the service's database. */
async function main(): Promise<void> {
  const command = parseApiKeyCommand(process.argv.slice(2));
  const database = await openDatabase(loadDatabaseSettings(process.env));
  const app = await NestFactory.createApplicationContext(ApiKeyCommandModule.forRoot(database), {
    logger: ['error', 'warn'],
  });
  try {
    process.stdout.write(await runApiKeyCommand(command, app.get(ApiKeysService)));
  } finally {
    await app.close();
    await database.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof UsageError) process.stderr.write(`${error.message}\n\n${API_KEY_USAGE}\n`);
  else if (error instanceof ApiError) process.stderr.write(`${describeCommandError(error)}\n`);
  else process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

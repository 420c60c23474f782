import type { DynamicModule } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import { loadAppConfig, type AppConfig } from './app-config';

/** The namespace of the checked configuration: `configService.get<AppConfig>('app')`. */
export const APP_CONFIG_NAMESPACE = 'app';

/**
 * Reads the process environment through `@nestjs/config`, with `loadAppConfig` as its validate
 * function: a wrong value throws a `ConfigError` naming the variable, before anything starts.
 * No `.env` file is read: the environment is the one source, for the service and for the
 * command-line tools alike (`node --env-file=.env dist/main` loads a file into it).
 */
export async function loadConfiguration(): Promise<AppConfig> {
  let config: AppConfig | undefined;
  await ConfigModule.forRoot({
    ignoreEnvFile: true,
    // The result is returned under one key holding an object, which @nestjs/config does not copy
    // back into process.env.
    validate: (env) => ({ [APP_CONFIG_NAMESPACE]: (config = loadAppConfig(env as Record<string, string>)) }),
  });
  if (!config) throw new Error('@nestjs/config did not run the validate function');
  return config;
}

/** Makes the checked configuration injectable everywhere through `ConfigService`. */
export function configModuleFor(config: AppConfig): Promise<DynamicModule> {
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: true,
    validatePredefined: false,
    load: [registerAs(APP_CONFIG_NAMESPACE, () => config)],
  });
}

import { DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKeyStrategy } from './api-key.strategy';
import { ApiKey } from './api-key.entity';
import { API_KEYS_OPTIONS, type ApiKeysModuleOptions, type ResolvedApiKeysOptions } from './api-keys.options';
import { ApiKeysService } from './api-keys.service';

/**
 * API keys, a host-side second way in for automation: the `api_keys` table (register
 * `API_KEYS_ENTITIES` on the TypeORM root), `ApiKeysService`, and the `api-key` passport strategy
 * that `ExecutionItemsModule` accepts when its `authStrategies` option names it.
 */
@Module({})
export class ApiKeysModule {
  static forRoot(options: ApiKeysModuleOptions = {}): DynamicModule {
    const resolved: ResolvedApiKeysOptions = {
      roleClaim: options.roleClaim ?? 'role',
      cacheSeconds: options.cacheSeconds ?? 10,
    };
    if (!resolved.roleClaim) throw new Error('ApiKeysModule: roleClaim must not be empty');
    if (!Number.isSafeInteger(resolved.cacheSeconds) || resolved.cacheSeconds < 0) {
      throw new Error(
        `ApiKeysModule: cacheSeconds must be a non-negative integer, got ${resolved.cacheSeconds}`,
      );
    }
    return {
      module: ApiKeysModule,
      imports: [TypeOrmModule.forFeature([ApiKey]), PassportModule],
      providers: [{ provide: API_KEYS_OPTIONS, useValue: resolved }, ApiKeysService, ApiKeyStrategy],
      exports: [ApiKeysService],
    };
  }
}

import { DynamicModule, Module } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import { AUTH_CONFIG, type AuthConfig } from './auth-config';
import { JwtStrategy } from './jwt.strategy';

/** Registers the `jwt` passport strategy: bearer tokens, verified as `AuthConfig` says. */
@Module({})
export class AuthModule {
  static forRoot(config: AuthConfig): DynamicModule {
    return {
      module: AuthModule,
      imports: [PassportModule],
      providers: [{ provide: AUTH_CONFIG, useValue: config }, JwtStrategy],
    };
  }
}

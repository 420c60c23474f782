import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';

/** The host's own way in: HS256 bearer tokens whose `groups` claim carries the caller's groups. */
@Injectable()
export class HostTokenStrategy extends PassportStrategy(Strategy, 'host-token') {
  constructor(secret: string) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: secret,
      algorithms: ['HS256'],
    });
  }

  validate(claims: Record<string, unknown>): Record<string, unknown> {
    return claims;
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { AccessTokenClaims, JWT_ALGORITHM, JWT_AUDIENCE, JWT_ISSUER } from '@atrium/auth';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { presentedJwt } from './credentials';
import { Principal } from './principal';

/** Access tokens: HS256 only (no `none`, no RS/HS confusion), issuer, audience and expiry checked. */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig) {
    super({
      jwtFromRequest: ExtractJwt.fromExtractors([(req) => presentedJwt(req as never)]),
      secretOrKey: config.JWT_SECRET,
      algorithms: [JWT_ALGORITHM],
      issuer: JWT_ISSUER,
      audience: JWT_AUDIENCE,
      ignoreExpiration: false,
    });
  }

  validate(claims: AccessTokenClaims): Principal | false {
    if (claims.typ !== 'access' || typeof claims.sub !== 'string') return false;
    return { kind: 'user', userId: claims.sub, username: claims.username, credential: 'jwt' };
  }
}

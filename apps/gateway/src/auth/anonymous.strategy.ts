import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { presentedCredential } from './credentials';
import { Principal } from './principal';

/** Anonymous only when no credential is presented: a bad credential is a 401, not a downgrade. */
@Injectable()
export class AnonymousStrategy extends PassportStrategy(Strategy, 'anonymous') {
  validate(request: FastifyRequest): Principal | false {
    return presentedCredential(request) === null ? { kind: 'anonymous' } : false;
  }
}

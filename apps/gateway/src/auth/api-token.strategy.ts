import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { API_TOKEN_PREFIX, parseApiToken, parseRunToken, RUN_TOKEN_PREFIX } from '@atrium/auth';
import { AppError, RunsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { presentedCredential } from './credentials';
import { Principal } from './principal';
import { TokenVerifications } from './token-verifications';

/**
 * API tokens (verified by identity) and run tokens (verified by resources), on every request, so
 * a revocation or a finished run applies to the next one. Malformed ones never leave the gateway.
 */
@Injectable()
export class ApiTokenStrategy extends PassportStrategy(Strategy, 'api-token') {
  constructor(
    private readonly rpc: RpcClient,
    private readonly tokens: TokenVerifications,
  ) {
    super();
  }

  async validate(request: FastifyRequest): Promise<Principal | false> {
    const token = presentedCredential(request);
    // A token that cannot be one is refused here, before any service or database is asked.
    if (token?.startsWith(RUN_TOKEN_PREFIX)) return parseRunToken(token) ? this.runToken(token) : false;
    if (!token?.startsWith(API_TOKEN_PREFIX) || !parseApiToken(token)) return false;
    try {
      const verified = await this.tokens.verify(token);
      return {
        kind: 'user',
        userId: verified.userId,
        username: verified.username,
        credential: 'api-token',
        tokenId: verified.tokenId,
        scope: verified.scope,
      };
    } catch (err) {
      if (err instanceof AppError && (err.type === 'token-not-valid' || err.type === 'invalid-input'))
        return false;
      throw err; // identity unavailable: fail closed with 503, never anonymous
    }
  }

  private async runToken(token: string): Promise<Principal | false> {
    try {
      const { runId, userId } = await this.rpc.call(RunsRpc.verifyToken, { token });
      return { kind: 'user', userId, credential: 'run-token', runId };
    } catch (err) {
      if (err instanceof AppError && (err.type === 'token-not-valid' || err.type === 'invalid-input'))
        return false;
      throw err;
    }
  }
}

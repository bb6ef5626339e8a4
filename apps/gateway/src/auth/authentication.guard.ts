import { ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { AppError } from '@atrium/contracts';

/** Runs on every route: JWT, then API token, then anonymous; a presented but invalid credential is 401. */
@Injectable()
export class AuthenticationGuard extends AuthGuard(['jwt', 'api-token', 'anonymous']) {
  handleRequest<TUser>(err: unknown, user: TUser | false, _info: unknown, _context: ExecutionContext): TUser {
    if (err) throw err;
    if (!user) throw new AppError('token-not-valid', 'The presented token is not valid or has expired');
    return user;
  }
}

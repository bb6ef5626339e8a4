import { AppError, PermissionsRpc } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { principalRef, UserPrincipal } from '../auth/principal';

/**
 * Moving an environment or group to another group (null: out of every group) is taking it out of
 * where it is and creating it where it goes, and must give the mover nothing it lacks now — on
 * it, or on anything under a moved group. The permissions service decides it as one question;
 * a refused move changes nothing, and a bad target is invalid input naming `field`.
 */
export async function requireMove(
  rpc: RpcClient,
  user: UserPrincipal,
  resourceId: string,
  targetGroupId: string | null,
  field: string,
): Promise<void> {
  const decision = await rpc.call(PermissionsRpc.checkMove, {
    principal: principalRef(user),
    resourceId,
    targetGroupId,
    field,
  });
  if (!decision.allowed) throw new AppError('insufficient-permissions', decision.detail);
}

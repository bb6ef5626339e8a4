import { Injectable } from '@nestjs/common';
import { AppError, ResourceType, WebhookCondition, WebhooksRpc, WebhookView } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { principalRef, UserPrincipal } from '../auth/principal';
import { requireAccess } from '../authorization/access-check';
import { AccessDecisions } from '../authorization/access-decisions';

/** What a webhook's condition names: the resource it watches, and the condition's field. */
export function targetOf(condition: WebhookCondition): { type: ResourceType; id: string; field: string } {
  if (condition.actorRunId) return { type: 'ACTOR_RUN', id: condition.actorRunId, field: 'actorRunId' };
  if (condition.actorTaskId) return { type: 'ACTOR_TASK', id: condition.actorTaskId, field: 'actorTaskId' };
  return { type: 'ACTOR', id: condition.actorId ?? '', field: 'actorId' };
}

/** A webhook with what the caller may do to it. */
export interface DecidedWebhook {
  webhook: WebhookView;
  /** May edit, test and see its headers: WRITE on its target now. */
  canWrite: boolean;
}

const fullCredential = (user: UserPrincipal) =>
  user.credential === 'jwt' || (user.credential === 'api-token' && !user.scope);

/**
 * Who may see and edit a webhook. A webhook belongs to the account that created it: only that
 * account sees it (anyone else gets 404, as for an unknown id). A run token or a scoped token of
 * that account sees it only where it may READ the webhook's target, as it would the target itself.
 * Editing, testing and seeing `headersTemplate` (it may carry secrets) need WRITE on the target
 * now — the same rule that creating it did.
 */
@Injectable()
export class WebhookAccess {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
  ) {}

  /** Each webhook the caller may see, with whether it may edit it; others are left out. */
  async decide(user: UserPrincipal, webhooks: readonly WebhookView[]): Promise<DecidedWebhook[]> {
    const principal = principalRef(user);
    const own = webhooks.filter((w) => w.userId === user.userId);
    const decisions = await Promise.all(
      own.map((w) => {
        const target = targetOf(w.condition);
        return this.access.check(principal, target.type, target.id, 'WRITE');
      }),
    );
    return own.flatMap((webhook, i) => {
      const decision = decisions[i]!;
      const visible = fullCredential(user) || decision.canRead;
      return visible ? [{ webhook, canWrite: decision.allowed }] : [];
    });
  }

  /** The webhook, if the caller may see it; 404 otherwise. */
  async load(user: UserPrincipal, id: string): Promise<DecidedWebhook> {
    let webhook: WebhookView;
    try {
      webhook = await this.rpc.call(WebhooksRpc.get, { id });
    } catch (err) {
      if (err instanceof AppError && err.type === 'record-not-found') throw AppError.notFound('The webhook');
      throw err;
    }
    const [decided] = await this.decide(user, [webhook]);
    if (!decided) throw AppError.notFound('The webhook');
    return decided;
  }

  /** The webhook, if the caller may edit it: 404 when it may not see it, 403 when it may not write. */
  async loadForWrite(user: UserPrincipal, id: string): Promise<DecidedWebhook> {
    const decided = await this.load(user, id);
    if (!decided.canWrite) {
      const target = targetOf(decided.webhook.condition);
      throw new AppError(
        'insufficient-permissions',
        `You need WRITE permission on the webhook's ${target.type.toLowerCase().replace('_', ' ')} ${target.id}`,
      );
    }
    return decided;
  }

  /** A condition's target, requiring WRITE on it: 404/403 naming `body.condition.<field>`. */
  async requireWritableTarget(user: UserPrincipal, condition: WebhookCondition): Promise<void> {
    const target = targetOf(condition);
    await requireAccess(this.access, user, target.type, target.id, 'WRITE', `body.condition.${target.field}`);
  }
}

/** A webhook as Apify shows it; `headersTemplate` only to a caller who may edit it. */
export function presentWebhook({ webhook, canWrite }: DecidedWebhook): Record<string, unknown> {
  const { createdBy: _createdBy, headersTemplate, ...shown } = webhook;
  return canWrite ? { ...shown, headersTemplate } : shown;
}

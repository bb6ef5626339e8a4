import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import {
  PermissionsRpc,
  ResourceType,
  RpcRequest,
  WEBHOOK_RESPONSE_BODY_MAX_CHARS,
  WebhookDispatchCallView,
} from '@atrium/contracts';
import { PollingWorker, RpcClient } from '@atrium/messaging';
import { returnedRows } from '@atrium/persistence';
import { request as httpRequest, IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { DataSource } from 'typeorm';
import { WebhookDispatchEntity } from './webhook-dispatch.entity';
import { BlockedTargetError, checkLiteralHost, guardedLookup } from './webhook-target';
import { renderHeaders, renderTemplate, WebhookTemplateContext } from './webhook-template';
import { WebhookEntity } from './webhook.entity';

export interface WebhookDeliveryOptions {
  allowPrivateTargets: boolean;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
}
export const WEBHOOK_DELIVERY_OPTIONS = Symbol('WEBHOOK_DELIVERY_OPTIONS');

const POLL_INTERVAL_MS = 500;
const BATCH_SIZE = 10;
/** A claimed dispatch is another replica's to retry after this long (far beyond one call's timeout). */
const CLAIM_MS = 5 * 60_000;
/** Waiting for the permissions service does not count as an attempt. */
const UNDECIDED_RETRY_MS = 2000;

type Outcome =
  { kind: 'call'; call: WebhookDispatchCallView; ok: boolean; final: boolean } | { kind: 'undecided' };

/**
 * Delivers webhook dispatches: claims due ACTIVE rows (any replica, never two at once), asks the
 * permissions service whether the webhook's creator may still write to its target (and read the
 * run or build the event is about), renders the templates and POSTs, recording every call.
 * A failed call is retried with doubling waits unless `doNotRetry`, up to `maxAttempts` calls.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private readonly worker = new PollingWorker(
    () => this.drain(),
    POLL_INTERVAL_MS,
    this.logger,
    'Webhook dispatcher will retry',
  );

  constructor(
    private readonly dataSource: DataSource,
    private readonly rpc: RpcClient,
    @Inject(WEBHOOK_DELIVERY_OPTIONS) private readonly options: WebhookDeliveryOptions,
  ) {}

  onApplicationBootstrap(): void {
    this.worker.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.worker.stop();
  }

  /** Delivers what is due now; called after dispatches were recorded. */
  kick(): void {
    this.worker.kick();
  }

  private async drain(): Promise<void> {
    for (;;) {
      const claimed = await this.claim();
      await Promise.all(claimed.map(({ id, until }) => this.deliver(id, until)));
      if (claimed.length < BATCH_SIZE || this.worker.isStopped) return;
    }
  }

  /** Claims due dispatches: rows another replica holds are skipped, and the lease keeps them ours. */
  private async claim(): Promise<{ id: string; until: Date }[]> {
    if (!this.dataSource.isInitialized) return [];
    const until = new Date(Date.now() + CLAIM_MS);
    const raw: unknown = await this.dataSource.query(
      `UPDATE resources.webhook_dispatch SET claimed_until = $1
        WHERE id IN (
          SELECT id FROM resources.webhook_dispatch
           WHERE status = 'ACTIVE' AND next_attempt_at <= now()
             AND (claimed_until IS NULL OR claimed_until < now())
           ORDER BY next_attempt_at LIMIT ${BATCH_SIZE}
           FOR UPDATE SKIP LOCKED)
        RETURNING id`,
      [until],
    );
    return returnedRows<{ id: string }>(raw).map(({ id }) => ({ id, until }));
  }

  private async deliver(id: string, until: Date): Promise<void> {
    const manager = this.dataSource.manager;
    const dispatch = await manager.findOneBy(WebhookDispatchEntity, { id });
    const webhook = dispatch && (await manager.findOneBy(WebhookEntity, { id: dispatch.webhookId }));
    if (!dispatch || !webhook) return; // deleted with its webhook meanwhile
    let outcome: Outcome;
    try {
      outcome = await this.attempt(webhook, dispatch);
    } catch (err) {
      this.logger.warn(`Webhook dispatch ${id} failed unexpectedly: ${(err as Error).message}`);
      outcome = { kind: 'undecided' };
    }
    if (outcome.kind === 'undecided') {
      await manager.query(
        `UPDATE resources.webhook_dispatch SET claimed_until = NULL, next_attempt_at = $2
          WHERE id = $1 AND claimed_until = $3`,
        [id, new Date(Date.now() + UNDECIDED_RETRY_MS), until],
      );
      return;
    }
    const calls = [...dispatch.calls, outcome.call];
    const exhausted = webhook.doNotRetry || calls.length >= this.options.maxAttempts;
    const status = outcome.ok ? 'SUCCEEDED' : outcome.final || exhausted ? 'FAILED' : 'ACTIVE';
    const wait = this.options.retryBaseMs * 2 ** (calls.length - 1);
    await manager.query(
      `UPDATE resources.webhook_dispatch
          SET calls = $2::jsonb, status = $3, next_attempt_at = $4, claimed_until = NULL
        WHERE id = $1 AND claimed_until = $5`,
      [id, JSON.stringify(calls), status, new Date(Date.now() + wait), until],
    );
  }

  private async attempt(webhook: WebhookEntity, dispatch: WebhookDispatchEntity): Promise<Outcome> {
    const startedAt = new Date().toISOString();
    const refusal = await this.creatorRefusal(webhook, dispatch);
    if (refusal === undefined) return { kind: 'undecided' };
    const failed = (errorMessage: string, final: boolean): Outcome => ({
      kind: 'call',
      ok: false,
      final,
      call: {
        startedAt,
        finishedAt: new Date().toISOString(),
        errorMessage,
        responseStatus: null,
        responseBody: null,
      },
    });
    if (refusal) return failed(refusal, true);
    const context: WebhookTemplateContext = {
      userId: webhook.userId,
      createdAt: dispatch.createdAt.toISOString(),
      eventType: dispatch.eventType,
      eventData: dispatch.eventData,
      resource: dispatch.resource,
      globals: { dateISO: new Date().toISOString(), dateUnix: Date.now() },
    };
    let body: string;
    let headers: Record<string, string>;
    try {
      body = JSON.stringify(
        renderTemplate(webhook.payloadTemplate, context, webhook.shouldInterpolateStrings),
      );
      headers = webhook.headersTemplate
        ? renderHeaders(webhook.headersTemplate, context, webhook.shouldInterpolateStrings)
        : {};
    } catch (err) {
      return failed(`Not sent: the webhook's template is ${(err as Error).message}`, true);
    }
    try {
      const response = await this.post(webhook, dispatch, body, headers);
      const ok = response.status >= 200 && response.status < 300;
      const redirect = response.status >= 300 && response.status < 400;
      return {
        kind: 'call',
        ok,
        final: redirect,
        call: {
          startedAt,
          finishedAt: new Date().toISOString(),
          errorMessage: ok
            ? null
            : redirect
              ? `Redirects are not followed (HTTP ${response.status})`
              : `The server answered HTTP ${response.status}`,
          responseStatus: response.status,
          responseBody: response.body,
        },
      };
    } catch (err) {
      const blocked =
        err instanceof BlockedTargetError || (err as { cause?: unknown }).cause instanceof BlockedTargetError;
      const message =
        (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
          ? `The request timed out after ${this.options.timeoutMs} ms`
          : (err as Error).message;
      // A blocked address stays blocked: no point in retrying.
      return failed(blocked ? `Not sent: ${message}` : message, blocked);
    }
  }

  /**
   * Null when the creator may still write to the webhook's target (and read the run or build the
   * event is about); a reason when not; undefined when the permissions service did not answer.
   */
  private async creatorRefusal(
    webhook: WebhookEntity,
    dispatch: WebhookDispatchEntity,
  ): Promise<string | null | undefined> {
    const target: [ResourceType, string, string] = webhook.conditionActorRunId
      ? ['ACTOR_RUN', webhook.conditionActorRunId, 'run']
      : webhook.conditionActorTaskId
        ? ['ACTOR_TASK', webhook.conditionActorTaskId, 'task']
        : ['ACTOR', webhook.conditionActorId ?? '', 'Actor'];
    const principal = { userId: webhook.createdBy };
    const checks: RpcRequest<typeof PermissionsRpc.checkMany>['checks'] = [
      { principal, resourceType: target[0], resourceRef: target[1], permission: 'WRITE' },
    ];
    const subject = dispatch.eventData?.actorRunId
      ? (['ACTOR_RUN', dispatch.eventData.actorRunId] as const)
      : dispatch.eventData?.actorBuildId
        ? (['ACTOR_BUILD', dispatch.eventData.actorBuildId] as const)
        : null;
    if (subject && subject[1] !== target[1])
      checks.push({ principal, resourceType: subject[0], resourceRef: subject[1], permission: 'READ' });
    let results;
    try {
      results = await this.rpc.call(PermissionsRpc.checkMany, { checks });
    } catch (err) {
      this.logger.warn(
        `Webhook dispatch ${dispatch.id} waits for the permissions service: ${(err as Error).message}`,
      );
      return undefined;
    }
    if (!results[0]?.allowed)
      return `Not sent: the webhook's creator may no longer write to its ${target[2]} ${target[1]}`;
    if (subject && results[1] && !results[1].allowed)
      return `Not sent: the webhook's creator may not read the ${subject[0] === 'ACTOR_RUN' ? 'run' : 'build'} ${subject[1]}`;
    return null;
  }

  /** One POST; the address connected to is the one checked, and redirects are not followed. */
  private post(
    webhook: WebhookEntity,
    dispatch: WebhookDispatchEntity,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: string }> {
    const url = new URL(webhook.requestUrl);
    checkLiteralHost(url.hostname, this.options.allowPrivateTargets);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          headers: {
            'user-agent': 'Atrium-Webhooks',
            ...headers,
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(body),
            'x-apify-webhook': webhook.id,
            'x-apify-webhook-dispatch-id': dispatch.id,
          },
          lookup: guardedLookup(this.options.allowPrivateTargets),
          rejectUnauthorized: !webhook.ignoreSslErrors,
          signal: AbortSignal.timeout(this.options.timeoutMs),
          agent: false,
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          let size = 0;
          // Enough bytes for the characters kept (UTF-8: at most 4 bytes each); the rest is not read.
          const limit = WEBHOOK_RESPONSE_BODY_MAX_CHARS * 4;
          const finish = () =>
            resolve({
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8').slice(0, WEBHOOK_RESPONSE_BODY_MAX_CHARS),
            });
          res.on('data', (chunk: Buffer) => {
            if (size >= limit) return;
            chunks.push(chunk);
            size += chunk.length;
            if (size >= limit) {
              finish();
              res.destroy();
            }
          });
          res.on('end', finish);
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Req,
  createParamDecorator,
  ExecutionContext,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  addRequestBody,
  AppError,
  batchAddRequestsBody,
  batchDeleteRequestsBody,
  clientKeySchema,
  idSchema,
  lockSecsSchema,
  MAX_BATCH_REQUESTS,
  MAX_HEAD_LIMIT,
  MAX_HEAD_LOCK_LIMIT,
  QueueClient,
  REQUEST_LIST_FILTERS,
  RequestQueuesRpc,
  RequestQueueView,
  resourceNameSchema,
  updateRequestBody,
  updateRequestQueueBody,
} from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { AccessChanger, ContentWriter, CurrentUser, Principal, UserPrincipal } from '../auth/principal';
import {
  Authorize,
  AuthorizedResource,
  CurrentResource,
  InAccount,
  CurrentAccount,
  Lister,
  ListingCaller,
} from '../authorization/authorize.decorator';
import { ChangesAccess, ChangesNoAccess } from '../authorization/access-changes';
import { parseBody, parseQuery, queryBoolean } from '../http/api-query';
import { listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { presentStorage } from '../http/storage-presenter';
import { storageRoutes } from '../runs/run-references';
import { AccessDecisions } from '../authorization/access-decisions';
import { requireManageAccessToChange, permissionsOnCreated } from '../authorization/access-check';

const MAX_REQUESTS_PAGE = 10_000;

const listQuery = z.object({ ...ownershipListQuery, unnamed: queryBoolean.optional() });
const createQuery = z.object({ name: resourceNameSchema.optional() });
/** Every request-queue call may name its client (Apify's `clientKey`, 1 to 32 characters). */
const clientQuery = { clientKey: clientKeySchema.optional() };
const writeQuery = z.object({ ...clientQuery, forefront: queryBoolean.optional() });
const headQuery = z.object({ ...clientQuery, limit: z.coerce.number().int().min(1).optional() });
// Required (Apify's lock routes take no default); "abc" or nothing is named as such, not as NaN.
const lockSecsQuery = z
  .string({ required_error: 'is required: the lock length in seconds' })
  .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
  .transform(Number)
  .pipe(lockSecsSchema);
const lockHeadQuery = z.object({
  ...clientQuery,
  lockSecs: lockSecsQuery,
  limit: z.coerce.number().int().min(1).max(MAX_HEAD_LOCK_LIMIT).optional(),
});
const prolongQuery = z.object({ ...writeQuery.shape, lockSecs: lockSecsQuery });
const clientOnlyQuery = z.object(clientQuery);
const requestsQuery = z
  .object({
    ...clientQuery,
    limit: z.coerce.number().int().min(1).optional(),
    exclusiveStartId: idSchema.optional(),
    /** Opaque to clients: the id the next page starts after. */
    cursor: idSchema.optional(),
    /** `locked`, `pending` or both, comma-separated: requests in any of those states. */
    filter: z
      .string()
      .max(100)
      .transform((v) => v.split(',').map((s) => s.trim()))
      .pipe(z.array(z.enum(REQUEST_LIST_FILTERS)).min(1).max(2))
      .optional(),
  })
  .refine((q) => q.exclusiveStartId === undefined || q.cursor === undefined, {
    message: 'exclusiveStartId and cursor cannot be combined',
    path: ['cursor'],
  })
  .refine((q) => q.exclusiveStartId === undefined || q.filter === undefined, {
    message: 'filter cannot be combined with the deprecated exclusiveStartId (use cursor)',
    path: ['filter'],
  });

/** The run whose token makes the call: a run holds the locks it took, whatever key it sends. */
const CallingRun = createParamDecorator((_data: unknown, ctx: ExecutionContext): string | undefined => {
  const principal = ctx.switchToHttp().getRequest<{ user?: Principal }>().user;
  return principal?.kind === 'user' && principal.credential === 'run-token' ? principal.runId : undefined;
});

function queueClient(clientKey: string | undefined, runId: string | undefined): QueueClient {
  return { ...(clientKey !== undefined ? { clientKey } : {}), ...(runId !== undefined ? { runId } : {}) };
}

/** A batch body: an array of 1 to 25, refused whole (naming the field) when anything is wrong. */
function parseBatch<S extends typeof batchAddRequestsBody | typeof batchDeleteRequestsBody>(
  schema: S,
  body: unknown,
): z.output<S> {
  if (Array.isArray(body) && body.length > MAX_BATCH_REQUESTS) {
    throw new AppError(
      'invalid-input',
      `Field "body" is invalid: a batch holds at most ${MAX_BATCH_REQUESTS} requests (got ${body.length})`,
    );
  }
  return parseBody(schema, body);
}

/** A request id that cannot exist answers like one that does not: 404. */
function requestIdOf(param: string): string {
  if (!idSchema.safeParse(param).success) throw AppError.notFound('The request');
  return param;
}

/** Request queues, with Apify API v2's paths and shapes. */
@ApiTags('request-queues')
@Controller('v2')
export class RequestQueuesController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /** Writers see the signing key; others do not. */
  private present(queue: RequestQueueView, permissions: readonly string[]): Record<string, unknown> {
    return presentStorage(queue, permissions, {
      baseUrl: this.config.PUBLIC_BASE_URL,
      collection: 'request-queues',
    });
  }

  @Get('request-queues')
  @InAccount('REQUEST_QUEUE', 'READ')
  async list(@Lister() lister: ListingCaller, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = await listByOwnership(this.rpc, this.access, lister, 'REQUEST_QUEUE', q, (req) =>
      this.rpc.call(RequestQueuesRpc.list, { ...req, unnamed: q.unnamed ?? false }),
    );
    return { data: { ...page, items: page.items.map((q) => this.present(q.view, q.permissions)) } };
  }

  @Post('request-queues')
  @InAccount('REQUEST_QUEUE', 'CREATE')
  @HttpCode(201)
  async create(
    @CurrentUser() user: UserPrincipal,
    @CurrentAccount() account: string,
    @Query() query: unknown,
    @Req() request: { user: UserPrincipal; existingResource?: boolean },
  ) {
    const { name } = parseQuery(createQuery, query);
    const { queue, created } = await this.rpc.call(RequestQueuesRpc.create, {
      ownerId: account,
      name,
      createdBy: user.userId,
    });
    const permissions = await permissionsOnCreated(this.access, request, 'REQUEST_QUEUE', {
      id: queue.id,
      created,
    });
    return { data: this.present(queue, permissions) };
  }

  @Get(storageRoutes('REQUEST_QUEUE'))
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    const queue = await this.rpc.call(RequestQueuesRpc.get, { id: resource.id });
    return { data: this.present(queue, resource.permissions) };
  }

  @Put(storageRoutes('REQUEST_QUEUE'))
  @ChangesAccess('resource')
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @Body() body: unknown,
    @AccessChanger() changedBy: string | undefined,
  ) {
    const changes = parseBody(updateRequestQueueBody, body ?? {});
    requireManageAccessToChange(resource, changes);
    const queue = await this.rpc.call(RequestQueuesRpc.update, { id: resource.id, changes, changedBy });
    return { data: this.present(queue, resource.permissions) };
  }

  @Delete(storageRoutes('REQUEST_QUEUE'))
  @ChangesAccess('resource')
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(RequestQueuesRpc.delete, { id: resource.id });
  }

  @Post(storageRoutes('REQUEST_QUEUE', '/requests'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(201)
  async addRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @Query() query: unknown,
    @Body() body: unknown,
  ) {
    const { forefront, clientKey } = parseQuery(writeQuery, query);
    const request = parseBody(addRequestBody, body);
    return {
      data: await this.rpc.call(RequestQueuesRpc.addRequest, {
        id: resource.id,
        request,
        forefront: forefront ?? false,
        client: queueClient(clientKey, runId),
        causedBy,
      }),
    };
  }

  @Post(storageRoutes('REQUEST_QUEUE', '/requests/batch'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(201)
  async batchAddRequests(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @Query() query: unknown,
    @Body() body: unknown,
  ) {
    const { forefront, clientKey } = parseQuery(writeQuery, query);
    const requests = parseBatch(batchAddRequestsBody, body);
    return {
      data: await this.rpc.call(RequestQueuesRpc.batchAddRequests, {
        id: resource.id,
        requests,
        forefront: forefront ?? false,
        client: queueClient(clientKey, runId),
        causedBy,
      }),
    };
  }

  @Delete(storageRoutes('REQUEST_QUEUE', '/requests/batch'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  async batchDeleteRequests(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @Query() query: unknown,
    @Body() body: unknown,
  ) {
    const { clientKey } = parseQuery(clientOnlyQuery, query);
    const requests = parseBatch(batchDeleteRequestsBody, body);
    return {
      data: await this.rpc.call(RequestQueuesRpc.batchDeleteRequests, {
        id: resource.id,
        requests,
        client: queueClient(clientKey, runId),
        causedBy,
      }),
    };
  }

  /** Unlocks every request the caller holds (by its clientKey, or by its run). */
  @Post(storageRoutes('REQUEST_QUEUE', '/requests/unlock'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(200)
  async unlockRequests(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @Query() query: unknown,
  ) {
    const { clientKey } = parseQuery(clientOnlyQuery, query);
    return {
      data: await this.rpc.call(RequestQueuesRpc.unlockRequests, {
        id: resource.id,
        client: queueClient(clientKey, runId),
      }),
    };
  }

  @Get(storageRoutes('REQUEST_QUEUE', '/requests'))
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  async listRequests(@CurrentResource() resource: AuthorizedResource, @Query() query: unknown) {
    const q = parseQuery(requestsQuery, query);
    const page = await this.rpc.call(RequestQueuesRpc.listRequests, {
      id: resource.id,
      limit: Math.min(q.limit ?? 1000, MAX_REQUESTS_PAGE),
      exclusiveStartId: q.exclusiveStartId ?? q.cursor,
      filter: q.filter,
    });
    return {
      data: {
        items: page.items,
        count: page.count,
        limit: page.limit,
        ...(q.exclusiveStartId !== undefined ? { exclusiveStartId: q.exclusiveStartId } : {}),
        ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        ...(page.nextExclusiveStartId !== null ? { nextCursor: page.nextExclusiveStartId } : {}),
      },
    };
  }

  @Get(storageRoutes('REQUEST_QUEUE', '/requests/:requestId'))
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  async getRequest(@CurrentResource() resource: AuthorizedResource, @Param('requestId') requestId: string) {
    return {
      data: await this.rpc.call(RequestQueuesRpc.getRequest, {
        id: resource.id,
        requestId: requestIdOf(requestId),
      }),
    };
  }

  @Put(storageRoutes('REQUEST_QUEUE', '/requests/:requestId'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  async updateRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @Query() query: unknown,
    @Body() body: unknown,
  ) {
    const id = requestIdOf(requestId);
    const { forefront, clientKey } = parseQuery(writeQuery, query);
    const request = parseBody(updateRequestBody, body);
    if (request.id !== undefined && request.id !== id) {
      throw new AppError('invalid-input', 'Field "body.id" must be the id of the request in the path');
    }
    return {
      data: await this.rpc.call(RequestQueuesRpc.updateRequest, {
        id: resource.id,
        requestId: id,
        request,
        forefront: forefront ?? false,
        client: queueClient(clientKey, runId),
        causedBy,
      }),
    };
  }

  @Delete(storageRoutes('REQUEST_QUEUE', '/requests/:requestId'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(204)
  async deleteRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @Query() query: unknown,
  ): Promise<void> {
    const { clientKey } = parseQuery(clientOnlyQuery, query);
    await this.rpc.call(RequestQueuesRpc.deleteRequest, {
      id: resource.id,
      requestId: requestIdOf(requestId),
      client: queueClient(clientKey, runId),
      causedBy,
    });
  }

  /** Prolongs the caller's lock (Apify's prolongRequestLock): `lockSecs` from now. */
  @Put(storageRoutes('REQUEST_QUEUE', '/requests/:requestId/lock'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  async prolongRequestLock(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @Query() query: unknown,
  ) {
    const id = requestIdOf(requestId);
    const { lockSecs, forefront, clientKey } = parseQuery(prolongQuery, query);
    return {
      data: await this.rpc.call(RequestQueuesRpc.prolongRequestLock, {
        id: resource.id,
        requestId: id,
        lockSecs,
        forefront: forefront ?? false,
        client: queueClient(clientKey, runId),
      }),
    };
  }

  /** Drops the caller's lock (Apify's deleteRequestLock); the request goes back to the head. */
  @Delete(storageRoutes('REQUEST_QUEUE', '/requests/:requestId/lock'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(204)
  async deleteRequestLock(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @Query() query: unknown,
  ): Promise<void> {
    const id = requestIdOf(requestId);
    const { forefront, clientKey } = parseQuery(writeQuery, query);
    await this.rpc.call(RequestQueuesRpc.deleteRequestLock, {
      id: resource.id,
      requestId: id,
      forefront: forefront ?? false,
      client: queueClient(clientKey, runId),
    });
  }

  @Get(storageRoutes('REQUEST_QUEUE', '/head'))
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  async head(@CurrentResource() resource: AuthorizedResource, @Query() query: unknown) {
    const { limit } = parseQuery(headQuery, query);
    return {
      data: await this.rpc.call(RequestQueuesRpc.head, {
        id: resource.id,
        limit: Math.min(limit ?? 100, MAX_HEAD_LIMIT),
      }),
    };
  }

  /** Lists and locks the head (Apify's listAndLockHead): WRITE, as locking changes the queue. */
  @Post(storageRoutes('REQUEST_QUEUE', '/head/lock'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(201)
  async lockHead(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @Query() query: unknown,
  ) {
    const { lockSecs, limit, clientKey } = parseQuery(lockHeadQuery, query);
    return {
      data: await this.rpc.call(RequestQueuesRpc.lockHead, {
        id: resource.id,
        lockSecs,
        limit: limit ?? MAX_HEAD_LOCK_LIMIT,
        client: queueClient(clientKey, runId),
      }),
    };
  }
}

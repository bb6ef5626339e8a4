import {
  Controller,
  createParamDecorator,
  Delete,
  ExecutionContext,
  Get,
  HttpCode,
  Param,
  Post,
  Put,
} from '@nestjs/common';
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
  updateRequestBody,
} from '@atrium/contracts';
import { anyObject, queueRequestView } from '../http/views';
import { RpcClient } from '@atrium/messaging';
import { z, ZodTypeAny } from 'zod';
import { ContentWriter, Principal } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { queryBoolean, queryInt } from '../http/api-query';
import { Returns, ReturnsNothing, ValidBody, ValidQuery } from '../http/validated';
import { storageRoutes } from '../runs/run-references';

const MAX_REQUESTS_PAGE = 10_000;

/** Every request-queue call may name its client (Apify's `clientKey`, 1 to 32 characters). */
const clientQuery = { clientKey: clientKeySchema.optional() };
const writeQuery = z.object({ ...clientQuery, forefront: queryBoolean.optional() });
const headQuery = z.object({ ...clientQuery, limit: queryInt(1).optional() });
// Required (Apify's lock routes take no default); "abc" or nothing is named as such, not as NaN.
const lockSecsQuery = z
  .string({ required_error: 'is required: the lock length in seconds' })
  .regex(/^\d+(\.\d+)?$/, 'must be a number of seconds')
  .transform(Number)
  .pipe(lockSecsSchema);
const lockHeadQuery = z.object({
  ...clientQuery,
  lockSecs: lockSecsQuery,
  limit: queryInt(1, MAX_HEAD_LOCK_LIMIT).optional(),
});
const prolongQuery = z.object({ ...writeQuery.shape, lockSecs: lockSecsQuery });
const clientOnlyQuery = z.object(clientQuery);
const requestsQuery = z
  .object({
    ...clientQuery,
    limit: queryInt(1).optional(),
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

/** A batch body: an array of 1 to 25, refused whole (naming the count) when it holds more. */
function batchBody<S extends ZodTypeAny>(schema: S) {
  return z.preprocess((body, ctx) => {
    if (Array.isArray(body) && body.length > MAX_BATCH_REQUESTS) {
      ctx.addIssue({
        code: 'custom',
        fatal: true,
        message: `a batch holds at most ${MAX_BATCH_REQUESTS} requests (got ${body.length})`,
      });
    }
    return body;
  }, schema);
}

/** A request id that cannot exist answers like one that does not: 404. */
function requestIdOf(param: string): string {
  if (!idSchema.safeParse(param).success) throw AppError.notFound('The request');
  return param;
}

/**
 * What is special about request queues, with Apify API v2's paths and shapes: their requests,
 * head and locks, each call naming its client. The catalogue routes come from `REQUEST_QUEUES`.
 */
@Controller('v2')
export class RequestQueuesController {
  constructor(private readonly rpc: RpcClient) {}

  @Post(storageRoutes('REQUEST_QUEUE', '/requests'))
  @ChangesNoAccess()
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(201)
  @Returns(anyObject)
  async addRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @ValidQuery(writeQuery) { forefront, clientKey }: z.output<typeof writeQuery>,
    @ValidBody(addRequestBody, { required: true }) request: z.output<typeof addRequestBody>,
  ) {
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
  @Returns(anyObject)
  async batchAddRequests(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @ValidQuery(writeQuery) { forefront, clientKey }: z.output<typeof writeQuery>,
    @ValidBody(batchBody(batchAddRequestsBody), { required: true })
    requests: z.output<typeof batchAddRequestsBody>,
  ) {
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
  @Returns(anyObject)
  async batchDeleteRequests(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @ValidQuery(clientOnlyQuery) { clientKey }: z.output<typeof clientOnlyQuery>,
    @ValidBody(batchBody(batchDeleteRequestsBody), { required: true })
    requests: z.output<typeof batchDeleteRequestsBody>,
  ) {
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
  @Returns(anyObject)
  async unlockRequests(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @ValidQuery(clientOnlyQuery) { clientKey }: z.output<typeof clientOnlyQuery>,
  ) {
    return {
      data: await this.rpc.call(RequestQueuesRpc.unlockRequests, {
        id: resource.id,
        client: queueClient(clientKey, runId),
      }),
    };
  }

  @Get(storageRoutes('REQUEST_QUEUE', '/requests'))
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  @Returns(anyObject)
  async listRequests(
    @CurrentResource() resource: AuthorizedResource,
    @ValidQuery(requestsQuery) q: z.output<typeof requestsQuery>,
  ) {
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
  @Returns(queueRequestView)
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
  @Returns(anyObject)
  async updateRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @ValidQuery(writeQuery) { forefront, clientKey }: z.output<typeof writeQuery>,
    @ValidBody(updateRequestBody, { required: true }) request: z.output<typeof updateRequestBody>,
  ) {
    const id = requestIdOf(requestId);
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
  @ReturnsNothing()
  async deleteRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @ValidQuery(clientOnlyQuery) { clientKey }: z.output<typeof clientOnlyQuery>,
  ): Promise<void> {
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
  @Returns(anyObject)
  async prolongRequestLock(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @ValidQuery(prolongQuery) { lockSecs, forefront, clientKey }: z.output<typeof prolongQuery>,
  ) {
    const id = requestIdOf(requestId);
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
  @ReturnsNothing()
  async deleteRequestLock(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @Param('requestId') requestId: string,
    @ValidQuery(writeQuery) { forefront, clientKey }: z.output<typeof writeQuery>,
  ): Promise<void> {
    const id = requestIdOf(requestId);
    await this.rpc.call(RequestQueuesRpc.deleteRequestLock, {
      id: resource.id,
      requestId: id,
      forefront: forefront ?? false,
      client: queueClient(clientKey, runId),
    });
  }

  @Get(storageRoutes('REQUEST_QUEUE', '/head'))
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  @Returns(anyObject)
  async head(
    @CurrentResource() resource: AuthorizedResource,
    @ValidQuery(headQuery) { limit }: z.output<typeof headQuery>,
  ) {
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
  @Returns(anyObject)
  async lockHead(
    @CurrentResource() resource: AuthorizedResource,
    @CallingRun() runId: string | undefined,
    @ValidQuery(lockHeadQuery) { lockSecs, limit, clientKey }: z.output<typeof lockHeadQuery>,
  ) {
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

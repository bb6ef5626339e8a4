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
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  addRequestBody,
  AppError,
  idSchema,
  MAX_HEAD_LIMIT,
  RequestQueuesRpc,
  RequestQueueView,
  resourceNameSchema,
  updateRequestBody,
  updateRequestQueueBody,
} from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { ContentWriter, CurrentUser, UserPrincipal } from '../auth/principal';
import {
  Authorize,
  AuthorizedResource,
  CurrentResource,
  InAccount,
  CurrentAccount,
  Lister,
  ListingCaller,
} from '../authorization/authorize.decorator';
import { parseBody, parseQuery, queryBoolean } from '../http/api-query';
import { listByOwnership, ownershipListQuery } from '../http/ownership-listing';
import { presentStorage } from '../http/storage-presenter';
import { AccessDecisions } from '../authorization/access-decisions';
import { requireManageAccessToChange, permissionsOnCreated } from '../authorization/access-check';

const MAX_REQUESTS_PAGE = 10_000;

const listQuery = z.object({ ...ownershipListQuery, unnamed: queryBoolean.optional() });
const createQuery = z.object({ name: resourceNameSchema.optional() });
const writeQuery = z.object({ forefront: queryBoolean.optional() });
const headQuery = z.object({ limit: z.coerce.number().int().min(1).optional() });
const requestsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).optional(),
    exclusiveStartId: idSchema.optional(),
    /** Opaque to clients: the id the next page starts after. */
    cursor: idSchema.optional(),
  })
  .refine((q) => q.exclusiveStartId === undefined || q.cursor === undefined, {
    message: 'exclusiveStartId and cursor cannot be combined',
    path: ['cursor'],
  });

/** A request id that cannot exist answers like one that does not: 404. */
function requestIdOf(param: string): string {
  if (!idSchema.safeParse(param).success) throw AppError.notFound('The request');
  return param;
}

/** Request queues, with Apify API v2's paths and shapes. */
@ApiTags('request-queues')
@Controller('v2/request-queues')
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

  @Get()
  @InAccount('REQUEST_QUEUE', 'READ')
  async list(@Lister() lister: ListingCaller, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = await listByOwnership(this.rpc, this.access, lister, 'REQUEST_QUEUE', q, (req) =>
      this.rpc.call(RequestQueuesRpc.list, { ...req, unnamed: q.unnamed ?? false }),
    );
    return { data: { ...page, items: page.items.map((q) => this.present(q.view, q.permissions)) } };
  }

  @Post()
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

  @Get(':queueId')
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    const queue = await this.rpc.call(RequestQueuesRpc.get, { id: resource.id });
    return { data: this.present(queue, resource.permissions) };
  }

  @Put(':queueId')
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  async update(@CurrentResource() resource: AuthorizedResource, @Body() body: unknown) {
    const changes = parseBody(updateRequestQueueBody, body ?? {});
    requireManageAccessToChange(resource, changes);
    const queue = await this.rpc.call(RequestQueuesRpc.update, { id: resource.id, changes });
    await this.access.refreshed('resource', resource.id);
    return { data: this.present(queue, resource.permissions) };
  }

  @Delete(':queueId')
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(RequestQueuesRpc.delete, { id: resource.id });
    await this.access.refreshed('resource', resource.id);
  }

  @Post(':queueId/requests')
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(201)
  async addRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @Query() query: unknown,
    @Body() body: unknown,
  ) {
    const { forefront } = parseQuery(writeQuery, query);
    const request = parseBody(addRequestBody, body);
    return {
      data: await this.rpc.call(RequestQueuesRpc.addRequest, {
        id: resource.id,
        request,
        forefront: forefront ?? false,
        causedBy,
      }),
    };
  }

  @Get(':queueId/requests')
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  async listRequests(@CurrentResource() resource: AuthorizedResource, @Query() query: unknown) {
    const q = parseQuery(requestsQuery, query);
    const page = await this.rpc.call(RequestQueuesRpc.listRequests, {
      id: resource.id,
      limit: Math.min(q.limit ?? 1000, MAX_REQUESTS_PAGE),
      exclusiveStartId: q.exclusiveStartId ?? q.cursor,
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

  @Get(':queueId/requests/:requestId')
  @Authorize('REQUEST_QUEUE', 'READ', 'queueId')
  async getRequest(@CurrentResource() resource: AuthorizedResource, @Param('requestId') requestId: string) {
    return {
      data: await this.rpc.call(RequestQueuesRpc.getRequest, {
        id: resource.id,
        requestId: requestIdOf(requestId),
      }),
    };
  }

  @Put(':queueId/requests/:requestId')
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  async updateRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @Param('requestId') requestId: string,
    @Query() query: unknown,
    @Body() body: unknown,
  ) {
    const id = requestIdOf(requestId);
    const { forefront } = parseQuery(writeQuery, query);
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
        causedBy,
      }),
    };
  }

  @Delete(':queueId/requests/:requestId')
  @Authorize('REQUEST_QUEUE', 'WRITE', 'queueId')
  @HttpCode(204)
  async deleteRequest(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @Param('requestId') requestId: string,
  ): Promise<void> {
    await this.rpc.call(RequestQueuesRpc.deleteRequest, {
      id: resource.id,
      requestId: requestIdOf(requestId),
      causedBy,
    });
  }

  @Get(':queueId/head')
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
}

import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  Put,
  Query,
  Res,
  Req,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  AppError,
  KeyValueStoresRpc,
  KeyValueStoreView,
  MAX_RECORD_BYTES,
  parseInput,
  recordContentTypeSchema,
  recordKeySchema,
  resourceNameSchema,
  updateKeyValueStoreBody,
} from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { RpcClient } from '@atrium/messaging';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { AccessChanger, ContentWriter, CurrentUser, UserPrincipal } from '../auth/principal';
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

const listQuery = z.object({ ...ownershipListQuery, unnamed: queryBoolean.optional() });
const createQuery = z.object({ name: resourceNameSchema.optional() });
const keysQuery = z.object({
  limit: z.coerce.number().int().min(1).optional(),
  exclusiveStartKey: recordKeySchema.optional(),
  prefix: z.string().min(1).max(256).optional(),
});

/**
 * The bytes of a record as sent: raw bodies arrive as Buffers (see gateway.app.ts); a JSON body was
 * parsed on the way in and is stored as its JSON text.
 */
function recordValue(body: unknown, contentType: string): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (Buffer.isBuffer(body)) return body;
  // Any JSON value (a string or null too) keeps its JSON text.
  if (/^application\/json/i.test(contentType)) return Buffer.from(JSON.stringify(body), 'utf8');
  if (/^application\/x-www-form-urlencoded/i.test(contentType)) {
    return Buffer.from(new URLSearchParams(body as Record<string, string>).toString(), 'utf8');
  }
  return Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
}

/** Key-value stores, with Apify API v2's paths and shapes: records of any content type. */
@ApiTags('key-value-stores')
@Controller('v2')
export class KeyValueStoresController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  private present(store: KeyValueStoreView, permissions: readonly string[]): Record<string, unknown> {
    return presentStorage(store, permissions, {
      baseUrl: this.config.PUBLIC_BASE_URL,
      collection: 'key-value-stores',
      publicContent: { field: 'keysPublicUrl', path: 'keys' },
    });
  }

  @Get('key-value-stores')
  @InAccount('KEY_VALUE_STORE', 'READ')
  async list(@Lister() lister: ListingCaller, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const page = await listByOwnership(this.rpc, this.access, lister, 'KEY_VALUE_STORE', q, (req) =>
      this.rpc.call(KeyValueStoresRpc.list, { ...req, unnamed: q.unnamed ?? false }),
    );
    return { data: { ...page, items: page.items.map((s) => this.present(s.view, s.permissions)) } };
  }

  @Post('key-value-stores')
  @InAccount('KEY_VALUE_STORE', 'CREATE')
  @HttpCode(201)
  async create(
    @CurrentUser() user: UserPrincipal,
    @CurrentAccount() account: string,
    @Query() query: unknown,
    @Req() request: { user: UserPrincipal; existingResource?: boolean },
  ) {
    const { name } = parseQuery(createQuery, query);
    const { store, created } = await this.rpc.call(KeyValueStoresRpc.create, {
      ownerId: account,
      name,
      createdBy: user.userId,
    });
    const permissions = await permissionsOnCreated(this.access, request, 'KEY_VALUE_STORE', {
      id: store.id,
      created,
    });
    return { data: this.present(store, permissions) };
  }

  @Get(storageRoutes('KEY_VALUE_STORE'))
  @Authorize('KEY_VALUE_STORE', 'READ', 'storeId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    const store = await this.rpc.call(KeyValueStoresRpc.get, { id: resource.id });
    return { data: this.present(store, resource.permissions) };
  }

  @Put(storageRoutes('KEY_VALUE_STORE'))
  @ChangesAccess('resource')
  @Authorize('KEY_VALUE_STORE', 'WRITE', 'storeId')
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @Body() body: unknown,
    @AccessChanger() changedBy: string | undefined,
  ) {
    const changes = parseBody(updateKeyValueStoreBody, body ?? {});
    requireManageAccessToChange(resource, changes);
    const store = await this.rpc.call(KeyValueStoresRpc.update, { id: resource.id, changes, changedBy });
    return { data: this.present(store, resource.permissions) };
  }

  @Delete(storageRoutes('KEY_VALUE_STORE'))
  @ChangesAccess('resource')
  @Authorize('KEY_VALUE_STORE', 'WRITE', 'storeId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(KeyValueStoresRpc.delete, { id: resource.id });
  }

  @Get(storageRoutes('KEY_VALUE_STORE', '/keys'))
  @Authorize('KEY_VALUE_STORE', 'READ', 'storeId', { signed: 'content' })
  async listKeys(@CurrentResource() resource: AuthorizedResource, @Query() query: unknown) {
    const q = parseQuery(keysQuery, query);
    const keys = await this.rpc.call(KeyValueStoresRpc.listKeys, {
      id: resource.id,
      limit: Math.min(q.limit ?? 1000, 1000),
      exclusiveStartKey: q.exclusiveStartKey,
      prefix: q.prefix,
    });
    return { data: keys };
  }

  /** The record's bytes with its content type (HEAD, as apify-client's recordExists sends, too). */
  @Get(storageRoutes('KEY_VALUE_STORE', '/records/:recordKey'))
  @Authorize('KEY_VALUE_STORE', 'READ', 'storeId', { signed: 'record' })
  async getRecord(
    @CurrentResource() resource: AuthorizedResource,
    @Param('recordKey') key: string,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Buffer> {
    const record = await this.rpc.call(KeyValueStoresRpc.getRecord, {
      id: resource.id,
      key: parseInput(recordKeySchema, key, 'recordKey'),
    });
    void reply.header('content-type', record.contentType);
    return Buffer.from(record.value, 'base64');
  }

  @Put(storageRoutes('KEY_VALUE_STORE', '/records/:recordKey'))
  @ChangesNoAccess()
  @Authorize('KEY_VALUE_STORE', 'WRITE', 'storeId')
  @HttpCode(201)
  async setRecord(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @Param('recordKey') key: string,
    @Headers('content-type') contentTypeHeader: string | undefined,
    @Body() body: unknown,
  ): Promise<Record<string, never>> {
    const recordKey = parseInput(recordKeySchema, key, 'recordKey');
    const contentType = parseInput(
      recordContentTypeSchema,
      contentTypeHeader ?? 'application/octet-stream',
      'content-type',
    );
    const value = recordValue(body, contentType);
    if (value.length > MAX_RECORD_BYTES) {
      throw new AppError('payload-too-large', `The record value exceeds ${MAX_RECORD_BYTES} bytes`);
    }
    await this.rpc.call(KeyValueStoresRpc.setRecord, {
      id: resource.id,
      key: recordKey,
      contentType,
      value: value.toString('base64'),
      causedBy,
    });
    return {};
  }

  @Delete(storageRoutes('KEY_VALUE_STORE', '/records/:recordKey'))
  @ChangesNoAccess()
  @Authorize('KEY_VALUE_STORE', 'WRITE', 'storeId')
  @HttpCode(204)
  async deleteRecord(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @Param('recordKey') key: string,
  ): Promise<void> {
    await this.rpc.call(KeyValueStoresRpc.deleteRecord, {
      id: resource.id,
      key: parseInput(recordKeySchema, key, 'recordKey'),
      causedBy,
    });
  }
}

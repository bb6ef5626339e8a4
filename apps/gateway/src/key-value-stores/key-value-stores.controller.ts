import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Put, Res } from '@nestjs/common';
import {
  AppError,
  KeyValueStoresRpc,
  MAX_RECORD_BYTES,
  parseInput,
  recordContentTypeSchema,
  recordKeySchema,
} from '@atrium/contracts';
import { anyObject, keyValueStoreKeysView, rawBody } from '../http/views';
import { RpcClient } from '@atrium/messaging';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ContentWriter } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { AnyBody, Returns, ReturnsNothing, ValidQuery } from '../http/validated';
import { queryInt } from '../http/api-query';
import { storageRoutes } from '../runs/run-references';

const keysQuery = z.object({
  limit: queryInt(1).optional(),
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

/**
 * What is special about key-value stores, with Apify API v2's paths and shapes: their keys and
 * records of any content type. The catalogue routes come from `KEY_VALUE_STORES`.
 */
@Controller('v2')
export class KeyValueStoresController {
  constructor(private readonly rpc: RpcClient) {}

  @Get(storageRoutes('KEY_VALUE_STORE', '/keys'))
  @Authorize('KEY_VALUE_STORE', 'READ', 'storeId', { signed: 'content' })
  @Returns(keyValueStoreKeysView)
  async listKeys(
    @CurrentResource() resource: AuthorizedResource,
    @ValidQuery(keysQuery) q: z.output<typeof keysQuery>,
  ) {
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
  @Returns(rawBody, { envelope: false, contentType: '*/*' })
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
  @AnyBody()
  @Returns(anyObject, { envelope: false })
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
  @ReturnsNothing()
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

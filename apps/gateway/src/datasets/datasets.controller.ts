import { Controller, Get, HttpCode, HttpException, Inject, Post, Res, StreamableFile } from '@nestjs/common';
import { datasetItemSchema, DatasetsRpc, MAX_ITEMS_PER_PUSH } from '@atrium/contracts';
import { GATEWAY_CONFIG, GatewayConfig } from '@atrium/config';
import { anyObject } from '../http/views';
import { RpcClient } from '@atrium/messaging';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ContentWriter } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { ChangesNoAccess } from '../authorization/access-changes';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { storageRoutes } from '../runs/run-references';
import { exportDatasetItems } from './dataset-items.export';
import { CLIENT_CLOSED, ClientGone } from '../http/request-done';
import { datasetItemsQuery } from './dataset-items.query';

const pushBody = z.union([
  datasetItemSchema(),
  z.array(datasetItemSchema('each item must be a JSON object')).min(1).max(MAX_ITEMS_PER_PUSH),
]);

/**
 * What is special about datasets, with Apify API v2's paths and shapes: their items (pushed, and
 * exported in every format) and statistics. The catalogue routes come from `DATASETS`.
 */
@Controller('v2')
export class DatasetsController {
  constructor(
    private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Items in every format Apify serves, streamed (see `dataset-items.export.ts`); the same guarded
   * route for all of them, pre-signed `?signature=` included.
   */
  @Get(storageRoutes('DATASET', '/items'))
  @Authorize('DATASET', 'READ', 'datasetId', { signed: 'content' })
  @Returns(z.array(anyObject), { envelope: false })
  async listItems(
    @CurrentResource() resource: AuthorizedResource,
    @ValidQuery(datasetItemsQuery) q: z.output<typeof datasetItemsQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
    @ClientGone() gone: AbortSignal,
  ): Promise<StreamableFile> {
    const dataset = await this.rpc.call(DatasetsRpc.get, { id: resource.id });
    // The response closes when it is sent, or when the client goes first: then reading stops.
    const { headers, body } = await exportDatasetItems(
      this.rpc,
      dataset,
      q,
      this.config.PUBLIC_BASE_URL,
      gone,
    ).catch((err: unknown) => {
      // Nobody reads the answer; 499 (nginx's "client closed request") keeps it out of the 5xx.
      throw gone.aborted ? new HttpException('The client closed the request', CLIENT_CLOSED) : err;
    });
    void reply.headers(headers);
    return new StreamableFile(body);
  }

  /** Apify's dataset statistics: per top-level field, its min, max, nulls and absences. */
  @Get(storageRoutes('DATASET', '/statistics'))
  @Authorize('DATASET', 'READ', 'datasetId')
  @Returns(anyObject)
  async statistics(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.rpc.call(DatasetsRpc.statistics, { id: resource.id }) };
  }

  @Post(storageRoutes('DATASET', '/items'))
  @ChangesNoAccess()
  @Authorize('DATASET', 'WRITE', 'datasetId')
  @HttpCode(201)
  @Returns(anyObject, { envelope: false })
  async pushItems(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @ValidBody(pushBody, { required: true }) parsed: z.output<typeof pushBody>,
  ): Promise<Record<string, never>> {
    await this.rpc.call(DatasetsRpc.pushItems, {
      id: resource.id,
      items: Array.isArray(parsed) ? parsed : [parsed],
      causedBy,
    });
    return {};
  }
}

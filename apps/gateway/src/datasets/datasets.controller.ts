import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Post,
  Put,
  Query,
  Res,
  Req,
  StreamableFile,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import {
  DatasetView,
  MAX_ITEMS_PER_PUSH,
  resourceNameSchema,
  ResourcesRpc,
  updateDatasetBody,
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
import { exportDatasetItems } from './dataset-items.export';
import { datasetItemsQuery } from './dataset-items.query';

const listQuery = z.object({ ...ownershipListQuery, unnamed: queryBoolean.optional() });
const createQuery = z.object({ name: resourceNameSchema.optional() });
const pushBody = z.union([
  z.record(z.unknown()),
  z
    .array(z.record(z.unknown(), { message: 'each item must be a JSON object' }))
    .min(1)
    .max(MAX_ITEMS_PER_PUSH),
]);

/** Datasets, with Apify API v2's paths and shapes. */
@ApiTags('datasets')
@Controller('v2')
export class DatasetsController {
  constructor(
    private readonly rpc: RpcClient,
    private readonly access: AccessDecisions,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  private present(dataset: DatasetView, permissions: readonly string[]): Record<string, unknown> {
    return presentStorage(dataset, permissions, {
      baseUrl: this.config.PUBLIC_BASE_URL,
      collection: 'datasets',
      publicContent: { field: 'itemsPublicUrl', path: 'items' },
    });
  }

  @Get('datasets')
  @InAccount('DATASET', 'READ')
  async list(@Lister() lister: ListingCaller, @Query() query: unknown) {
    const q = parseQuery(listQuery, query);
    const result = await listByOwnership(this.rpc, this.access, lister, 'DATASET', q, (req) =>
      this.rpc.call(ResourcesRpc.listDatasets, { ...req, unnamed: q.unnamed ?? false }),
    );
    return { data: { ...result, items: result.items.map((d) => this.present(d.view, d.permissions)) } };
  }

  @Post('datasets')
  @InAccount('DATASET', 'CREATE')
  @HttpCode(201)
  async create(
    @CurrentUser() user: UserPrincipal,
    @CurrentAccount() account: string,
    @Query() query: unknown,
    @Req() request: { user: UserPrincipal; existingResource?: boolean },
  ) {
    const { name } = parseQuery(createQuery, query);
    const { dataset, created } = await this.rpc.call(ResourcesRpc.createDataset, {
      ownerId: account,
      name,
      createdBy: user.userId,
    });
    const permissions = await permissionsOnCreated(this.access, request, 'DATASET', {
      id: dataset.id,
      created,
    });
    return { data: this.present(dataset, permissions) };
  }

  @Get(storageRoutes('DATASET'))
  @Authorize('DATASET', 'READ', 'datasetId')
  async get(@CurrentResource() resource: AuthorizedResource) {
    const dataset = await this.rpc.call(ResourcesRpc.getDataset, { id: resource.id });
    return { data: this.present(dataset, resource.permissions) };
  }

  @Put(storageRoutes('DATASET'))
  @ChangesAccess('resource')
  @Authorize('DATASET', 'WRITE', 'datasetId')
  async update(
    @CurrentResource() resource: AuthorizedResource,
    @Body() body: unknown,
    @AccessChanger() changedBy: string | undefined,
  ) {
    const changes = parseBody(updateDatasetBody, body ?? {});
    requireManageAccessToChange(resource, changes);
    const dataset = await this.rpc.call(ResourcesRpc.updateDataset, { id: resource.id, changes, changedBy });
    return { data: this.present(dataset, resource.permissions) };
  }

  @Delete(storageRoutes('DATASET'))
  @ChangesAccess('resource')
  @Authorize('DATASET', 'WRITE', 'datasetId')
  @HttpCode(204)
  async delete(@CurrentResource() resource: AuthorizedResource): Promise<void> {
    await this.rpc.call(ResourcesRpc.deleteDataset, { id: resource.id });
  }

  /**
   * Items in every format Apify serves, streamed (see `dataset-items.export.ts`); the same guarded
   * route for all of them, pre-signed `?signature=` included.
   */
  @Get(storageRoutes('DATASET', '/items'))
  @Authorize('DATASET', 'READ', 'datasetId', { signed: 'content' })
  async listItems(
    @CurrentResource() resource: AuthorizedResource,
    @Query() query: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<StreamableFile> {
    const q = parseQuery(datasetItemsQuery, query);
    const dataset = await this.rpc.call(ResourcesRpc.getDataset, { id: resource.id });
    const { headers, body } = exportDatasetItems(this.rpc, dataset, q, this.config.PUBLIC_BASE_URL);
    void reply.headers(headers);
    return new StreamableFile(body);
  }

  /** Apify's dataset statistics: per top-level field, its min, max, nulls and absences. */
  @Get(storageRoutes('DATASET', '/statistics'))
  @Authorize('DATASET', 'READ', 'datasetId')
  async statistics(@CurrentResource() resource: AuthorizedResource) {
    return { data: await this.rpc.call(ResourcesRpc.getDatasetStatistics, { id: resource.id }) };
  }

  @Post(storageRoutes('DATASET', '/items'))
  @ChangesNoAccess()
  @Authorize('DATASET', 'WRITE', 'datasetId')
  @HttpCode(201)
  async pushItems(
    @CurrentResource() resource: AuthorizedResource,
    @ContentWriter() causedBy: string | undefined,
    @Body() body: unknown,
  ): Promise<Record<string, never>> {
    const parsed = parseBody(pushBody, body);
    await this.rpc.call(ResourcesRpc.pushItems, {
      id: resource.id,
      items: Array.isArray(parsed) ? parsed : [parsed],
      causedBy,
    });
    return {};
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  DatasetItemsChunk,
  DatasetStatistics,
  DatasetView,
  ListPage,
  ResourcesRpc,
  RpcPayload,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { DatasetsService } from './datasets.service';

@Controller()
export class DatasetsMessageController {
  constructor(private readonly datasets: DatasetsService) {}

  @RpcHandler(ResourcesRpc.createDataset)
  create(
    @Payload() req: RpcPayload<typeof ResourcesRpc.createDataset>,
  ): Promise<{ dataset: DatasetView; created: boolean }> {
    return this.datasets.create(req);
  }

  @RpcHandler(ResourcesRpc.getDataset)
  get(@Payload() { id }: RpcPayload<typeof ResourcesRpc.getDataset>): Promise<DatasetView> {
    return this.datasets.get(id);
  }

  @RpcHandler(ResourcesRpc.updateDataset)
  update(@Payload() req: RpcPayload<typeof ResourcesRpc.updateDataset>): Promise<DatasetView> {
    return this.datasets.update(req);
  }

  @RpcHandler(ResourcesRpc.deleteDataset)
  delete(@Payload() { id }: RpcPayload<typeof ResourcesRpc.deleteDataset>): Promise<{ ok: true }> {
    return this.datasets.delete(id);
  }

  @RpcHandler(ResourcesRpc.listDatasets)
  list(@Payload() req: RpcPayload<typeof ResourcesRpc.listDatasets>): Promise<ListPage<DatasetView>> {
    return this.datasets.list(req);
  }

  @RpcHandler(ResourcesRpc.pushItems)
  push(@Payload() req: RpcPayload<typeof ResourcesRpc.pushItems>): Promise<{ itemCount: number }> {
    return this.datasets.pushItems(req.id, req.items, req.causedBy);
  }

  @RpcHandler(ResourcesRpc.readItems)
  readItems(@Payload() req: RpcPayload<typeof ResourcesRpc.readItems>): Promise<DatasetItemsChunk> {
    return this.datasets.readItems(req);
  }

  @RpcHandler(ResourcesRpc.getDatasetStatistics)
  statistics(
    @Payload() { id }: RpcPayload<typeof ResourcesRpc.getDatasetStatistics>,
  ): Promise<DatasetStatistics> {
    return this.datasets.statistics(id);
  }
}

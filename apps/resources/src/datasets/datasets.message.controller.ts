import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { DatasetItemsChunk, DatasetsRpc, DatasetStatistics, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { DatasetsService } from './datasets.service';

@Controller()
export class DatasetsMessageController {
  constructor(private readonly datasets: DatasetsService) {}

  @RpcHandler(DatasetsRpc.pushItems)
  push(@Payload() req: RpcPayload<typeof DatasetsRpc.pushItems>): Promise<{ itemCount: number }> {
    return this.datasets.pushItems(req.id, req.items, req.causedBy);
  }

  @RpcHandler(DatasetsRpc.readItems)
  readItems(@Payload() req: RpcPayload<typeof DatasetsRpc.readItems>): Promise<DatasetItemsChunk> {
    return this.datasets.readItems(req);
  }

  @RpcHandler(DatasetsRpc.statistics)
  statistics(@Payload() { id }: RpcPayload<typeof DatasetsRpc.statistics>): Promise<DatasetStatistics> {
    return this.datasets.statistics(id);
  }
}

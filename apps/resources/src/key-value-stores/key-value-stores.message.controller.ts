import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { KeyListView, KeyValueStoresRpc, RecordView, RpcPayload } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { KeyValueStoresService } from './key-value-stores.service';

@Controller()
export class KeyValueStoresMessageController {
  constructor(private readonly stores: KeyValueStoresService) {}

  @RpcHandler(KeyValueStoresRpc.listKeys)
  listKeys(@Payload() req: RpcPayload<typeof KeyValueStoresRpc.listKeys>): Promise<KeyListView> {
    return this.stores.listKeys(req);
  }

  @RpcHandler(KeyValueStoresRpc.getRecord)
  getRecord(@Payload() { id, key }: RpcPayload<typeof KeyValueStoresRpc.getRecord>): Promise<RecordView> {
    return this.stores.getRecord(id, key);
  }

  @RpcHandler(KeyValueStoresRpc.setRecord)
  setRecord(
    @Payload() req: RpcPayload<typeof KeyValueStoresRpc.setRecord>,
  ): Promise<{ key: string; size: number }> {
    return this.stores.setRecord(req);
  }

  @RpcHandler(KeyValueStoresRpc.deleteRecord)
  deleteRecord(
    @Payload() { id, key, causedBy }: RpcPayload<typeof KeyValueStoresRpc.deleteRecord>,
  ): Promise<{ ok: true }> {
    return this.stores.deleteRecord(id, key, causedBy);
  }
}

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  KeyListView,
  KeyValueStoresRpc,
  KeyValueStoreView,
  ListPage,
  RecordView,
  RpcPayload,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { KeyValueStoresService } from './key-value-stores.service';

@Controller()
export class KeyValueStoresMessageController {
  constructor(private readonly stores: KeyValueStoresService) {}

  @RpcHandler(KeyValueStoresRpc.create)
  create(
    @Payload() req: RpcPayload<typeof KeyValueStoresRpc.create>,
  ): Promise<{ store: KeyValueStoreView; created: boolean }> {
    return this.stores.create(req);
  }

  @RpcHandler(KeyValueStoresRpc.get)
  get(@Payload() { id }: RpcPayload<typeof KeyValueStoresRpc.get>): Promise<KeyValueStoreView> {
    return this.stores.get(id);
  }

  @RpcHandler(KeyValueStoresRpc.update)
  update(@Payload() req: RpcPayload<typeof KeyValueStoresRpc.update>): Promise<KeyValueStoreView> {
    return this.stores.update(req);
  }

  @RpcHandler(KeyValueStoresRpc.delete)
  delete(@Payload() { id }: RpcPayload<typeof KeyValueStoresRpc.delete>): Promise<{ ok: true }> {
    return this.stores.delete(id);
  }

  @RpcHandler(KeyValueStoresRpc.list)
  list(@Payload() req: RpcPayload<typeof KeyValueStoresRpc.list>): Promise<ListPage<KeyValueStoreView>> {
    return this.stores.list(req);
  }

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

import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { ListPage, RpcPayload, WebhookDispatchView, WebhooksRpc, WebhookView } from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { WebhooksService } from './webhooks.service';

@Controller()
export class WebhooksMessageController {
  constructor(private readonly webhooks: WebhooksService) {}

  @RpcHandler(WebhooksRpc.create)
  create(@Payload() req: RpcPayload<typeof WebhooksRpc.create>): Promise<WebhookView & { created: boolean }> {
    return this.webhooks.create(req);
  }

  @RpcHandler(WebhooksRpc.get)
  get(@Payload() { id }: RpcPayload<typeof WebhooksRpc.get>): Promise<WebhookView> {
    return this.webhooks.get(id);
  }

  @RpcHandler(WebhooksRpc.list)
  list(@Payload() req: RpcPayload<typeof WebhooksRpc.list>): Promise<ListPage<WebhookView>> {
    return this.webhooks.list(req);
  }

  @RpcHandler(WebhooksRpc.update)
  update(@Payload() req: RpcPayload<typeof WebhooksRpc.update>): Promise<WebhookView> {
    return this.webhooks.update(req);
  }

  @RpcHandler(WebhooksRpc.delete)
  delete(@Payload() { id }: RpcPayload<typeof WebhooksRpc.delete>): Promise<{ ok: true }> {
    return this.webhooks.delete(id);
  }

  @RpcHandler(WebhooksRpc.test)
  test(@Payload() { id }: RpcPayload<typeof WebhooksRpc.test>): Promise<WebhookDispatchView> {
    return this.webhooks.test(id);
  }

  @RpcHandler(WebhooksRpc.listDispatches)
  listDispatches(
    @Payload() req: RpcPayload<typeof WebhooksRpc.listDispatches>,
  ): Promise<ListPage<WebhookDispatchView>> {
    return this.webhooks.listDispatches(req);
  }

  @RpcHandler(WebhooksRpc.getDispatch)
  getDispatch(@Payload() { id }: RpcPayload<typeof WebhooksRpc.getDispatch>): Promise<WebhookDispatchView> {
    return this.webhooks.getDispatch(id);
  }
}

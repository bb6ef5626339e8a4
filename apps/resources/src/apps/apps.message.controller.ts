import { Controller } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import {
  AppCollaboratorRecord,
  AppContentView,
  AppInputView,
  AppModelView,
  AppPrediction,
  AppsRpc,
  AppView,
  ListPage,
  RpcPayload,
  RpcResponse,
} from '@atrium/contracts';
import { RpcHandler } from '@atrium/messaging';
import { AppContentsService } from './app-contents.service';
import { AppModelsService } from './app-models.service';
import { AppsService } from './apps.service';

@Controller()
export class AppsMessageController {
  constructor(
    private readonly apps: AppsService,
    private readonly contents: AppContentsService,
    private readonly models: AppModelsService,
  ) {}

  @RpcHandler(AppsRpc.createApp)
  create(@Payload() req: RpcPayload<typeof AppsRpc.createApp>): Promise<AppView> {
    return this.apps.create(req);
  }

  @RpcHandler(AppsRpc.getApp)
  get(@Payload() { id }: RpcPayload<typeof AppsRpc.getApp>): Promise<AppView> {
    return this.apps.get(id);
  }

  @RpcHandler(AppsRpc.updateApp)
  update(@Payload() req: RpcPayload<typeof AppsRpc.updateApp>): Promise<AppView> {
    return this.apps.update(req);
  }

  @RpcHandler(AppsRpc.deleteApp)
  delete(
    @Payload() { id }: RpcPayload<typeof AppsRpc.deleteApp>,
  ): Promise<RpcResponse<typeof AppsRpc.deleteApp>> {
    return this.apps.delete(id);
  }

  @RpcHandler(AppsRpc.listApps)
  list(@Payload() req: RpcPayload<typeof AppsRpc.listApps>): Promise<ListPage<AppView>> {
    return this.apps.list(req);
  }

  @RpcHandler(AppsRpc.addContent)
  addContent(@Payload() req: RpcPayload<typeof AppsRpc.addContent>): Promise<AppContentView> {
    return this.contents.add(req);
  }

  @RpcHandler(AppsRpc.getContent)
  getContent(@Payload() req: RpcPayload<typeof AppsRpc.getContent>): Promise<AppContentView> {
    return this.contents.get(req);
  }

  @RpcHandler(AppsRpc.deleteContent)
  deleteContent(@Payload() req: RpcPayload<typeof AppsRpc.deleteContent>): Promise<{ ok: true }> {
    return this.contents.delete(req);
  }

  @RpcHandler(AppsRpc.listContents)
  listContents(@Payload() req: RpcPayload<typeof AppsRpc.listContents>): Promise<ListPage<AppContentView>> {
    return this.contents.list(req);
  }

  @RpcHandler(AppsRpc.patchInput)
  patchInput(@Payload() req: RpcPayload<typeof AppsRpc.patchInput>): Promise<AppInputView> {
    return this.contents.patchInput(req);
  }

  @RpcHandler(AppsRpc.search)
  search(@Payload() req: RpcPayload<typeof AppsRpc.search>): Promise<ListPage<AppInputView>> {
    return this.contents.search(req);
  }

  @RpcHandler(AppsRpc.trainModel)
  train(@Payload() req: RpcPayload<typeof AppsRpc.trainModel>): Promise<AppModelView> {
    return this.models.train(req);
  }

  @RpcHandler(AppsRpc.predict)
  predict(@Payload() req: RpcPayload<typeof AppsRpc.predict>): Promise<AppPrediction> {
    return this.models.predict(req);
  }

  @RpcHandler(AppsRpc.recordCollaborator)
  recordCollaborator(
    @Payload() req: RpcPayload<typeof AppsRpc.recordCollaborator>,
  ): Promise<{ previousTokenId: string | null }> {
    return this.apps.recordCollaborator(req);
  }

  @RpcHandler(AppsRpc.listCollaborators)
  listCollaborators(
    @Payload() req: RpcPayload<typeof AppsRpc.listCollaborators>,
  ): Promise<AppCollaboratorRecord[]> {
    return this.apps.listCollaborators(req);
  }

  @RpcHandler(AppsRpc.forgetCollaborator)
  forgetCollaborator(@Payload() req: RpcPayload<typeof AppsRpc.forgetCollaborator>): Promise<{ ok: true }> {
    return this.apps.forgetCollaborator(req);
  }
}

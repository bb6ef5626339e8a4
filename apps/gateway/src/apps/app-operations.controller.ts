import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { AppError, AppsRpc, idSchema, predictBody, searchAppBody } from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { z } from 'zod';
import { CurrentUser, UserPrincipal } from '../auth/principal';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { paginationQuery } from '../http/api-query';
import { Returns, ValidBody, ValidQuery } from '../http/validated';
import { anyObject } from '../http/views';
import { ChangesNoAccess } from '../authorization/access-changes';

const searchQuery = z.object(paginationQuery);

function modelRef(modelId: string): string {
  if (!idSchema.safeParse(modelId).success) throw AppError.notFound('The model');
  return modelId;
}

/** What an app does with its contents: search its inputs, train its models, predict with them. */
@Controller('v2/apps/:appId')
export class AppOperationsController {
  constructor(private readonly rpc: RpcClient) {}

  /** Inputs whose text contains `query.text` and annotated with every one of `query.conceptIds`. */
  @Post('searches')
  @ChangesNoAccess()
  @Authorize('APP', 'Search', 'appId')
  @HttpCode(200)
  @Returns(anyObject)
  async search(
    @CurrentResource() app: AuthorizedResource,
    @ValidQuery(searchQuery) q: z.output<typeof searchQuery>,
    @ValidBody(searchAppBody) body: z.output<typeof searchAppBody>,
  ) {
    const { query: search } = body;
    const page = { offset: q.offset ?? 0, limit: Math.min(q.limit ?? 100, 1000), desc: q.desc ?? false };
    return { data: await this.rpc.call(AppsRpc.search, { appId: app.id, query: search, page }) };
  }

  /** Trains a new version of the model on the inputs annotated with its concepts. */
  @Post('models/:modelId/train')
  @ChangesNoAccess()
  @Authorize('APP', 'Models:Train', 'appId')
  @HttpCode(200)
  @Returns(anyObject)
  async train(
    @CurrentResource() app: AuthorizedResource,
    @CurrentUser() user: UserPrincipal,
    @Param('modelId') modelId: string,
  ) {
    return {
      data: await this.rpc.call(AppsRpc.trainModel, {
        appId: app.id,
        modelId: modelRef(modelId),
        trainedBy: user.userId,
      }),
    };
  }

  /** Predicts the concepts of each text with the model's latest trained version. */
  @Post('models/:modelId/outputs')
  @ChangesNoAccess()
  @Authorize('APP', 'Predict', 'appId')
  @HttpCode(200)
  @Returns(anyObject)
  async predict(
    @CurrentResource() app: AuthorizedResource,
    @Param('modelId') modelId: string,
    @ValidBody(predictBody) body: z.output<typeof predictBody>,
  ) {
    const { inputs } = body;
    return {
      data: await this.rpc.call(AppsRpc.predict, { appId: app.id, modelId: modelRef(modelId), inputs }),
    };
  }
}

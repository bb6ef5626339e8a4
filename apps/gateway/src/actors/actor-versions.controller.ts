import { Controller, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import {
  ActorVersionsRpc,
  createEnvVarBody,
  createVersionBody,
  envVarNameSchema,
  parseInput,
  updateEnvVarBody,
  updateVersionBody,
  versionNumberSchema,
} from '@atrium/contracts';
import { RpcClient } from '@atrium/messaging';
import { Authorize, AuthorizedResource, CurrentResource } from '../authorization/authorize.decorator';
import { Returns, ReturnsNothing, ValidBody } from '../http/validated';
import { z } from 'zod';
import { envVarView, listOf, versionView } from '../http/views';
import { ChangesNoAccess } from '../authorization/access-changes';

const VERSION = ':actorId/versions/:versionNumber';
const ENV_VAR = ':actorId/versions/:versionNumber/env-vars/:envVarName';

/** Secret values leave the resources service only for a caller whose decision gives WRITE. */
const reveals = (actor: AuthorizedResource) => actor.permissions.includes('WRITE');
const versionOf = (versionNumber: string) => parseInput(versionNumberSchema, versionNumber, 'versionNumber');
const envVarOf = (name: string) => parseInput(envVarNameSchema, name, 'envVarName');

/**
 * An Actor's versions and their environment variables, as Apify API v2 serves them: reading
 * needs READ on the Actor, changing WRITE. A reader gets a secret variable without its value,
 * in every list and item; Apify's `POST` aliases of the two `PUT`s are served too.
 */
@Controller(['v2/acts', 'v2/actors'])
export class ActorVersionsController {
  constructor(private readonly rpc: RpcClient) {}

  @Get(':actorId/versions')
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(listOf(versionView))
  async list(@CurrentResource() actor: AuthorizedResource) {
    return {
      data: await this.rpc.call(ActorVersionsRpc.listVersions, {
        actorId: actor.id,
        revealSecrets: reveals(actor),
      }),
    };
  }

  @Post(':actorId/versions')
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @HttpCode(201)
  @Returns(versionView)
  async create(
    @CurrentResource() actor: AuthorizedResource,
    @ValidBody(createVersionBody) version: z.output<typeof createVersionBody>,
  ) {
    return { data: await this.rpc.call(ActorVersionsRpc.createVersion, { actorId: actor.id, version }) };
  }

  @Get(VERSION)
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(versionView)
  async get(@CurrentResource() actor: AuthorizedResource, @Param('versionNumber') versionNumber: string) {
    return {
      data: await this.rpc.call(ActorVersionsRpc.getVersion, {
        actorId: actor.id,
        versionNumber: versionOf(versionNumber),
        revealSecrets: reveals(actor),
      }),
    };
  }

  @Put(VERSION)
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @Returns(versionView)
  async update(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
    @ValidBody(updateVersionBody) changes: z.output<typeof updateVersionBody>,
  ) {
    return {
      data: await this.rpc.call(ActorVersionsRpc.updateVersion, {
        actorId: actor.id,
        versionNumber: versionOf(versionNumber),
        changes,
      }),
    };
  }

  @Post(VERSION)
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @HttpCode(200)
  @Returns(versionView)
  updateByPost(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
    @ValidBody(updateVersionBody) body: z.output<typeof updateVersionBody>,
  ) {
    return this.update(actor, versionNumber, body);
  }

  @Delete(VERSION)
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @HttpCode(204)
  @ReturnsNothing()
  async delete(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
  ): Promise<void> {
    await this.rpc.call(ActorVersionsRpc.deleteVersion, {
      actorId: actor.id,
      versionNumber: versionOf(versionNumber),
    });
  }

  @Get(`${VERSION}/env-vars`)
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(listOf(envVarView))
  async listEnvVars(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
  ) {
    return {
      data: await this.rpc.call(ActorVersionsRpc.listEnvVars, {
        actorId: actor.id,
        versionNumber: versionOf(versionNumber),
        revealSecrets: reveals(actor),
      }),
    };
  }

  @Post(`${VERSION}/env-vars`)
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @HttpCode(201)
  @Returns(envVarView)
  async createEnvVar(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
    @ValidBody(createEnvVarBody) envVar: z.output<typeof createEnvVarBody>,
  ) {
    return {
      data: await this.rpc.call(ActorVersionsRpc.createEnvVar, {
        actorId: actor.id,
        versionNumber: versionOf(versionNumber),
        envVar,
      }),
    };
  }

  @Get(ENV_VAR)
  @Authorize('ACTOR', 'READ', 'actorId')
  @Returns(envVarView)
  async getEnvVar(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
    @Param('envVarName') envVarName: string,
  ) {
    return {
      data: await this.rpc.call(ActorVersionsRpc.getEnvVar, {
        actorId: actor.id,
        versionNumber: versionOf(versionNumber),
        name: envVarOf(envVarName),
        revealSecrets: reveals(actor),
      }),
    };
  }

  @Put(ENV_VAR)
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @Returns(envVarView)
  async updateEnvVar(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
    @Param('envVarName') envVarName: string,
    @ValidBody(updateEnvVarBody) changes: z.output<typeof updateEnvVarBody>,
  ) {
    return {
      data: await this.rpc.call(ActorVersionsRpc.updateEnvVar, {
        actorId: actor.id,
        versionNumber: versionOf(versionNumber),
        name: envVarOf(envVarName),
        changes,
      }),
    };
  }

  @Post(ENV_VAR)
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @HttpCode(200)
  @Returns(envVarView)
  updateEnvVarByPost(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
    @Param('envVarName') envVarName: string,
    @ValidBody(updateEnvVarBody) body: z.output<typeof updateEnvVarBody>,
  ) {
    return this.updateEnvVar(actor, versionNumber, envVarName, body);
  }

  @Delete(ENV_VAR)
  @ChangesNoAccess()
  @Authorize('ACTOR', 'WRITE', 'actorId')
  @HttpCode(204)
  @ReturnsNothing()
  async deleteEnvVar(
    @CurrentResource() actor: AuthorizedResource,
    @Param('versionNumber') versionNumber: string,
    @Param('envVarName') envVarName: string,
  ): Promise<void> {
    await this.rpc.call(ActorVersionsRpc.deleteEnvVar, {
      actorId: actor.id,
      versionNumber: versionOf(versionNumber),
      name: envVarOf(envVarName),
    });
  }
}

import { Injectable, OnModuleInit, RequestMethod, Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { accessChangesOf } from './access-changes';
import { AUTHORIZATION_KEY } from './authorization-key';
import type { AuthorizationRule } from './authorize.decorator';

const WRITES = new Set([RequestMethod.POST, RequestMethod.PUT, RequestMethod.PATCH, RequestMethod.DELETE]);

/**
 * What is wrong with the controllers' declarations of changes of access: a write route that
 * declares none (a change it makes would leave cached decisions stale), or one that declares a
 * change of the resource it authorizes without authorizing one (`@Authorize`).
 */
export function accessDeclarationProblems(
  controllers: readonly Type[],
  scanner = new MetadataScanner(),
): string[] {
  const problems: string[] = [];
  for (const controller of controllers) {
    for (const name of scanner.getAllMethodNames(controller.prototype)) {
      const handler = (controller.prototype as Record<string, object>)[name];
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined || !WRITES.has(method)) continue;
      const route = `${RequestMethod[method]} ${String(Reflect.getMetadata(PATH_METADATA, handler))} (${controller.name}.${name})`;
      const changes = accessChangesOf(handler);
      if (!changes?.length) {
        problems.push(`${route} declares no change of access: @ChangesAccess(…) or @ChangesNoAccess()`);
        continue;
      }
      const rule = (Reflect.getMetadata(AUTHORIZATION_KEY, handler) ??
        Reflect.getMetadata(AUTHORIZATION_KEY, controller)) as AuthorizationRule | undefined;
      const onAuthorized = changes.some(
        (c) => c.kind === 'resource' || (c.kind === 'grant' && !c.anyResource),
      );
      if (onAuthorized && rule?.kind !== 'resource')
        problems.push(
          `${route} declares a change of the resource it authorizes, but authorizes none (@Authorize)`,
        );
    }
  }
  return problems;
}

/** At start-up: the gateway does not start while a write route's declaration is missing or wrong. */
@Injectable()
export class AccessDeclarationsCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const controllers = this.discovery
      .getControllers()
      .map((wrapper) => wrapper.metatype)
      .filter((type): type is Type => typeof type === 'function');
    const problems = accessDeclarationProblems(controllers, this.scanner);
    if (problems.length)
      throw new Error(`Write routes without a proper access declaration:\n${problems.join('\n')}`);
  }
}

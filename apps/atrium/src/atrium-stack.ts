import { INestMicroservice, Logger } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ServiceName } from '@atrium/contracts';
import { GatewayConfig, ServicesConfig } from '@atrium/config';
import { startServiceApp } from '@atrium/messaging';
import { createGatewayApp } from '@atrium/gateway';
import { IdentityModule } from '@atrium/identity';
import { IssuesModule } from '@atrium/issues';
import { PermissionsModule } from '@atrium/permissions';
import { ResourcesModule } from '@atrium/resources';

/** Each service's root module: the launcher is the one place that knows them all. */
export const SERVICE_MODULES = {
  identity: IdentityModule,
  resources: ResourcesModule,
  permissions: PermissionsModule,
  issues: IssuesModule,
} as const satisfies Record<ServiceName, { forRoot(config: ServicesConfig): unknown }>;

export interface AtriumStack {
  gateway: NestFastifyApplication;
  services: Map<ServiceName, INestMicroservice>;
  stopService(name: ServiceName): Promise<void>;
  startService(name: ServiceName): Promise<void>;
  close(): Promise<void>;
}

/** Starts every service, then the gateway (not listening: the caller decides where). */
export async function startAtriumStack(
  serviceConfig: ServicesConfig,
  gatewayConfig: GatewayConfig,
): Promise<AtriumStack> {
  const services = new Map<ServiceName, INestMicroservice>();
  const startService = async (name: ServiceName) => {
    const app = await startServiceApp(SERVICE_MODULES[name].forRoot(serviceConfig), name, {
      amqpUrl: serviceConfig.AMQP_URL,
      logLevel: serviceConfig.LOG_LEVEL,
      logFormat: serviceConfig.LOG_FORMAT,
      // One process: its lines are the installation's, whichever service wrote them.
      logName: 'atrium',
    });
    services.set(name, app);
  };
  const stopService = async (name: ServiceName) => {
    await services.get(name)?.close();
    services.delete(name);
  };
  // Migrations of one schema never touch another, so the services start side by side.
  const starts = await Promise.allSettled((Object.keys(SERVICE_MODULES) as ServiceName[]).map(startService));
  let gateway: NestFastifyApplication;
  try {
    const failed = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    gateway = await createGatewayApp(gatewayConfig, 'atrium');
  } catch (err) {
    // No part of a stack that failed to start stays running: its services would go on taking
    // requests from the queues (on a shared broker, another stack's).
    for (const name of [...services.keys()]) await stopService(name).catch(() => undefined);
    throw err;
  }
  return {
    gateway,
    services,
    startService,
    stopService,
    async close() {
      await gateway.close();
      for (const name of [...services.keys()]) await stopService(name);
      new Logger('Atrium').log('stopped');
    },
  };
}

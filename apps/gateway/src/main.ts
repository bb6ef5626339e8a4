import { Logger } from '@nestjs/common';
import { gatewayConfigSchema, loadConfig } from '@atrium/config';
import { startTracing } from '@atrium/messaging';
import { createGatewayApp } from './gateway.app';

async function main(): Promise<void> {
  const config = loadConfig(gatewayConfigSchema);
  if (startTracing('gateway'))
    new Logger('Gateway').log(`Tracing to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`);
  const app = await createGatewayApp(config);
  await app.listen(config.PORT, config.HOST);
  new Logger('Gateway').log(`Atrium gateway listening on ${await app.getUrl()}`);
}

main().catch((err: unknown) => {
  new Logger('Gateway').error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

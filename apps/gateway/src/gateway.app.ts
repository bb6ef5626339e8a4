import { isUtf8 } from 'node:buffer';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { GatewayConfig } from '@atrium/config';
import { AppError } from '@atrium/contracts';
import { AtriumLogger, logFormat } from '@atrium/messaging';
import { GATEWAY_CONTROLLERS, GatewayModule } from './gateway.module';
import { GatewayMetrics } from './health/metrics';
import { serveApiDocs } from './http/api-docs';
import { ApiExceptionFilter } from './http/api-exception.filter';
import { serveConsole } from './http/console';
import { JsonBeyond, jsonBeyondLimits, MAX_JSON_CONTAINERS, MAX_JSON_DEPTH } from './http/json-depth';
import { buildOpenApiDocument } from './http/openapi';
import { registerRequestDecompression } from './http/request-decompression';
import { isolateApiAnswers } from './http/api-answer-isolation';
import { logRequests } from './http/request-log';
import { traceRequests } from './http/request-tracing';

const BEYOND_MESSAGES: Record<JsonBeyond['limit'], (token?: string) => string> = {
  depth: () => `The body nests deeper than ${MAX_JSON_DEPTH} levels`,
  containers: () =>
    `The body holds more than ${MAX_JSON_CONTAINERS.toLocaleString('en-US')} objects and arrays`,
  number: (token) => `The body holds a number beyond the range of a double (${token}): send it as a string`,
  integer: (token) =>
    `The body holds an integer a double cannot hold exactly (${token}): it would be rounded; send it as a string`,
  tiny: (token) =>
    `The body holds a number too small for a double (${token}): it would be stored as 0; send it as a string`,
};

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Builds the gateway (not yet listening): Fastify with body limits, Apify errors, metrics and OpenAPI. */
export async function createGatewayApp(
  config: GatewayConfig,
  /** The `service` of its log lines. */
  logName = 'gateway',
): Promise<NestFastifyApplication> {
  const metrics = new GatewayMetrics();
  const logger = new AtriumLogger(logName, config.LOG_LEVEL, logFormat(config.LOG_FORMAT));
  // Record keys may be 256 characters (and longer ones must reach validation to be named, not 404).
  const adapter = new FastifyAdapter({
    bodyLimit: config.BODY_LIMIT_BYTES,
    routerOptions: { maxParamLength: 16 * 1024 },
    // Fastify's own 503 while closing has a body of its own; ours below is an Apify error.
    return503OnClosing: false,
  });
  const fastify = adapter.getInstance();
  // Once closing, a request on a kept-alive connection is refused as every error is answered
  // (Apify's `{ error: { type, message } }`), and its connection closed.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    void reply.header('connection', 'close');
    done(new AppError('service-unavailable', 'Atrium is shutting down; try again in a moment'));
  });
  // Records and run inputs may be of any content type: everything but JSON arrives as raw bytes.
  fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  // An empty JSON body is no body (apify-client sends `content-type: application/json` with none
  // when a task or Actor is started without input); anything else is parsed as Fastify does.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, bytes, done) => {
    if (!bytes.length) return done(null, undefined);
    // Read as text, bytes that are not UTF-8 would become U+FFFD without a word.
    if (!isUtf8(bytes as Buffer))
      return done(new AppError('invalid-input', 'The body is not valid UTF-8'), undefined);
    const body = bytes.toString('utf8');
    const beyond = jsonBeyondLimits(body);
    if (beyond)
      return done(new AppError('invalid-input', BEYOND_MESSAGES[beyond.limit](beyond.token)), undefined);
    parseJson(request, body, (err, value) => {
      // Fastify's parser refuses these keys (they would set an object's prototype once merged)
      // with the same error as broken JSON: say which it was.
      if (err && parsesAsJson(body))
        return done(
          new AppError(
            'invalid-input',
            'A JSON body may not hold the key "__proto__", nor a "constructor" key holding "prototype"',
          ),
          undefined,
        );
      done(err, value);
    });
  });
  registerRequestDecompression(fastify);
  isolateApiAnswers(fastify);
  metrics.instrument(fastify);
  logRequests(fastify, logger);
  traceRequests(fastify);
  if (config.AMQP_URL) metrics.watchBroker(config.AMQP_URL);
  fastify.addHook('onClose', async () => metrics.close());

  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(config, metrics),
    adapter,
    // The body parsers are registered above (Nest's own would replace the JSON one). A failed
    // start throws to the caller rather than ending the process (see startServiceApp).
    { logger, bodyParser: false, abortOnError: false },
  );
  // Nest routes Fastify's own errors (unparseable JSON, oversized bodies) through this filter too.
  app.useGlobalFilters(new ApiExceptionFilter());
  // On a signal: stop accepting, finish the requests in flight, close the RPC client, exit 0.
  app.enableShutdownHooks([], { useProcessExit: true });

  serveApiDocs(fastify, () => buildOpenApiDocument(GATEWAY_CONTROLLERS));
  serveConsole(fastify, config.CONSOLE_DIR);
  await app.init();
  return app;
}

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/**
 * Loads the messaging library in a fresh Node process, starts tracing with the given endpoint,
 * makes a span and reports whether the SDK was loaded and what the helpers answered.
 */
function probe(endpoint: string | undefined) {
  const script = `
    const tracing = require(${JSON.stringify(join(__dirname, 'tracing.ts'))});
    const started = tracing.startTracing('probe', ${JSON.stringify(endpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint } : {})});
    tracing.inSpan('work', tracing.SpanKind.INTERNAL, {}, async () => {
      const out = {
        started,
        enabled: tracing.tracingEnabled(),
        headers: tracing.traceHeaders() ?? null,
        traceId: tracing.currentTraceId() ?? null,
        sdkLoaded: Object.keys(require.cache).some((m) => /@opentelemetry[\\\\/](sdk-trace|exporter-trace-otlp-http)[\\\\/]/.test(m)),
      };
      process.stdout.write(JSON.stringify(out));
      process.exit(0);
    });`;
  const env = { ...process.env };
  delete env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const out = execFileSync(process.execPath, ['-r', join(ROOT, 'tools', 'register.js'), '-e', script], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  return JSON.parse(out) as {
    started: boolean;
    enabled: boolean;
    headers: Record<string, string> | null;
    traceId: string | null;
    sdkLoaded: boolean;
  };
}

describe('tracing on and off', () => {
  it('without OTEL_EXPORTER_OTLP_ENDPOINT loads no SDK and propagates nothing', () => {
    expect(probe(undefined)).toEqual({
      started: false,
      enabled: false,
      headers: null,
      traceId: null,
      sdkLoaded: false,
    });
  }, 30_000);

  it('with it, starts the SDK and gives the work a W3C trace context', () => {
    const out = probe('http://127.0.0.1:9');
    expect(out).toMatchObject({ started: true, enabled: true, sdkLoaded: true });
    expect(out.headers?.traceparent).toMatch(new RegExp(`^00-${out.traceId}-[0-9a-f]{16}-01$`));
  }, 30_000);
});

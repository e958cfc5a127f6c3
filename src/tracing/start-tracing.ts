import { diag, DiagLogLevel } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { Env } from '../config/env.ts';
import { tracingWanted } from '../config/otel-env.ts';
import type { Logger } from '../core/logger.ts';
import { redactUrl } from '../core/redact.ts';
import { hubIdGenerator } from './id-generator.ts';

export interface Tracing {
  /** Exports what is pending now (a child process before it hands its job back). */
  flush(): Promise<void>;
  /** Exports what is pending and stops. */
  shutdown(): Promise<void>;
}

const EXPORT_WARNING_EVERY_MS = 60_000;

/**
 * The OpenTelemetry SDK of a hub process, started by its entry point before anything else, when
 * an OTLP endpoint is configured (undefined otherwise: nothing registered, no per-job cost).
 * Everything else comes from the standard OTEL_* variables, which the SDK reads itself: sampler,
 * exporter headers, batch sizes. Spans go out as OTLP/HTTP JSON in batches.
 *
 * No context manager is registered: the hub passes trace context explicitly (the job's `$hub`,
 * the attempt's ctx), as it does the job scope, instead of an AsyncLocalStorage that would hook
 * every promise of the process (README, Performance).
 */
export const startTracing = (env: Env, defaultServiceName: string, log: Logger): Tracing | undefined => {
  if (!tracingWanted(env)) return undefined;
  // Export failures (collector down) come through diag: logged once a minute, not per batch.
  let lastWarning = 0;
  const warn = (message: string) => {
    if (Date.now() - lastWarning < EXPORT_WARNING_EVERY_MS) return;
    lastWarning = Date.now();
    log.warn({ err: message }, 'tracing: could not export spans (they are dropped; jobs are not affected)');
  };
  diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);

  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: defaultServiceName, 'service.namespace': 'task-hub' }))
    // OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    idGenerator: hubIdGenerator(),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register({ contextManager: null });

  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? `${env.OTEL_EXPORTER_OTLP_ENDPOINT!.replace(/\/$/, '')}/v1/traces`;
  // Query strings may carry a key.
  log.info({ endpoint: redactUrl(endpoint).split('?')[0], service: env.OTEL_SERVICE_NAME ?? defaultServiceName, sampler: env.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on' }, 'tracing on');
  return {
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
};

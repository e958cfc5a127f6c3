import { z } from 'zod';

/**
 * The standard OpenTelemetry variables the hub's tracing reads (the SDK reads them itself from
 * the process environment; they are checked here so a typo stops the start with its name,
 * where the SDK would only log a diagnostic and fall back). Tracing is off unless an OTLP
 * endpoint is set: see tracingWanted.
 */
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
const protocol = z
  .literal('http/json', { error: "the hub's exporter sends OTLP over HTTP as JSON: set http/json or leave it unset (http/protobuf and grpc need another exporter)" })
  .optional();

export const otelEnv = {
  /** true: no tracing whatever else is set. */
  OTEL_SDK_DISABLED: z.enum(['true', 'false']).optional(),
  /** otlp (the default) or none. */
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none']).optional(),
  /** Where spans go: the collector's base URL (`/v1/traces` is appended); setting it turns tracing on. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** The full traces URL, used as is (instead of the base URL above). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  /** `key=value,...` sent with every export (an API key for a hosted backend): never logged. */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().max(4_000).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: protocol,
  /** The service name spans carry; unset: task-hub-<role> (task-hub-worker, task-hub-beat, ...). */
  OTEL_SERVICE_NAME: z.string().min(1).max(200).optional(),
  /** More resource attributes, `key=value,...` (deployment.environment.name=staging). */
  OTEL_RESOURCE_ATTRIBUTES: z.string().max(4_000).optional(),
  /** parentbased_always_on by default: a job is traced when its caller's trace is sampled. */
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS, { error: `one of ${SAMPLERS.join(', ')}` }).optional(),
  /** The ratio of the *traceidratio samplers, 0..1. */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).optional(),
};

type OtelSettings = { [K in keyof typeof otelEnv]?: z.output<(typeof otelEnv)[K]> };

/** Tracing runs when an endpoint is configured and neither OTEL_SDK_DISABLED nor OTEL_TRACES_EXPORTER=none says no. */
export const tracingWanted = (env: OtelSettings): boolean =>
  env.OTEL_SDK_DISABLED !== 'true' && env.OTEL_TRACES_EXPORTER !== 'none' && Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);

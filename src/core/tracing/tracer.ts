import { trace, type ProxyTracerProvider, type Tracer, type TracerProvider } from '@opentelemetry/api';

export const TRACER_NAME = 'task-hub';

type MaybeProxy = TracerProvider & Partial<Pick<ProxyTracerProvider, 'getDelegate' | 'getDelegateTracer'>>;
let delegate: TracerProvider | undefined;
let tracer: Tracer | undefined;

/**
 * The tracer of the OpenTelemetry SDK registered in this process, or undefined when none is:
 * then tracing is off and the hub makes no spans at all. Hub processes register one at start
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set (src/tracing/); a service importing the producer
 * lib registers its own whenever it likes, so this is looked up per call (a few property reads).
 */
export const sdkTracer = (): Tracer | undefined => {
  const provider = trace.getTracerProvider() as MaybeProxy;
  const current = provider.getDelegate ? provider.getDelegate() : provider;
  if (current !== delegate) {
    delegate = current;
    // The API's proxy answers undefined while no SDK is behind it.
    tracer = provider.getDelegateTracer ? provider.getDelegateTracer(TRACER_NAME) : current.getTracer(TRACER_NAME);
  }
  return tracer;
};

import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import { formatTraceparent } from './traceparent.ts';
import { sdkTracer } from './tracer.ts';

/**
 * Beat records a span when it creates or changes an entry's scheduler; its traceparent goes into
 * the scheduler's job template, and each run the scheduler fires starts its own trace linked to
 * it (a run is not a child of the deploy that set it up, or one trace would grow forever).
 * Undefined when beat does not trace.
 */
export const scheduleEntrySpan = (entry: { id: string; task: string; queue: string; cron?: string; everyMs?: number }, action: string): string | undefined => {
  const tracer = sdkTracer();
  if (!tracer) return undefined;
  const span = tracer.startSpan(
    `schedule ${entry.id}`,
    {
      kind: SpanKind.INTERNAL,
      attributes: {
        'task_hub.schedule': entry.id,
        'task_hub.task': entry.task,
        'messaging.destination.name': entry.queue,
        'task_hub.schedule.action': action,
        ...(entry.cron ? { 'task_hub.schedule.cron': entry.cron } : {}),
        ...(entry.everyMs ? { 'task_hub.schedule.every_ms': entry.everyMs } : {}),
      },
      root: true,
    },
    ROOT_CONTEXT,
  );
  span.end();
  return formatTraceparent(span.spanContext());
};

import { RandomIdGenerator, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { takeRootTraceId } from '../core/tracing/root-trace-id.ts';

/** Random ids, except a root span's trace id when the hub asked for one (see withRootTraceId). */
export const hubIdGenerator = (): IdGenerator => {
  const random = new RandomIdGenerator();
  return {
    generateTraceId: () => takeRootTraceId() ?? random.generateTraceId(),
    generateSpanId: () => random.generateSpanId(),
  };
};

import { TraceFlags } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { formatTraceparent, incomingTrace, parseTraceparent, traceIdOf } from './traceparent.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('W3C traceparent', () => {
  it('reads what it writes, sampled or not', () => {
    for (const traceFlags of [TraceFlags.SAMPLED, TraceFlags.NONE]) {
      const text = formatTraceparent({ traceId: TRACE, spanId: SPAN, traceFlags });
      expect(text).toBe(`00-${TRACE}-${SPAN}-0${traceFlags}`);
      expect(parseTraceparent(text)).toEqual({ traceId: TRACE, spanId: SPAN, traceFlags, isRemote: true });
      expect(traceIdOf(text)).toBe(TRACE);
    }
  });

  it('refuses what the spec says to ignore', () => {
    for (const bad of [
      `ff-${TRACE}-${SPAN}-01`,
      `00-${'0'.repeat(32)}-${SPAN}-01`,
      `00-${TRACE}-${'0'.repeat(16)}-01`,
      `00-${TRACE.toUpperCase()}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-more`,
      `00-${TRACE}-${SPAN}`,
      '',
    ]) {
      expect(parseTraceparent(bad), bad).toBeUndefined();
    }
  });

  it('accepts a later version with more fields, keeping the four it knows', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-03-whatever`)).toMatchObject({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED });
  });

  it('keeps a tracestate under the W3C limit as incoming context, drops a longer one', () => {
    const parent = `00-${TRACE}-${SPAN}-01`;
    expect(incomingTrace(parent, 'a=1')).toEqual({ traceparent: parent, tracestate: 'a=1' });
    expect(incomingTrace(parent, `a=${'x'.repeat(600)}`)).toEqual({ traceparent: parent });
    expect(incomingTrace('nonsense', 'a=1')).toBeUndefined();
    expect(incomingTrace(undefined, undefined)).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { redactFields, redactJson, redactText, redactUrl, sensitiveValues } from './redact.ts';

describe('redaction', () => {
  it('hides the password of a Redis URL and keeps the rest', () => {
    expect(redactUrl('redis://:hunter2@redis:6379/0')).toBe('redis://:***@redis:6379/0');
    expect(redactUrl('rediss://app:s3cret@cache.internal:6380')).toBe('rediss://app:***@cache.internal:6380');
    expect(redactUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });
  it('replaces sensitive payload fields without touching the original', () => {
    const payload = { userId: 'u1', resetToken: 'abc' };
    expect(redactFields(payload, ['resetToken'])).toEqual({ userId: 'u1', resetToken: '[redacted]' });
    expect(payload.resetToken).toBe('abc');
  });
  it('finds sensitive values in every form text may carry them, longest first', () => {
    const values = sensitiveValues(['token', 'pins'], { token: 'a b/"c"', pins: [1234, { x: 'yy' }], other: 'kept' });
    expect(values).toEqual(['a%20b%2F%22c%22', 'a b/\\"c\\"', 'a b/"c"', '1234', 'yy']);
    expect(sensitiveValues([], { token: 'x' })).toEqual([]);
    expect(redactText('GET /t/a%20b%2F%22c%22 for yy', values)).toBe('GET /t/[redacted] for [redacted]');
  });
  it('redacts what BullMQ would store of a return value, keys included, and leaves the original alone', () => {
    const result = { at: new Date(0), token: 'abcd', list: [{ abcd: 1234 }], n: 5 };
    expect(redactJson(result, ['abcd', '1234'])).toEqual({ at: '1970-01-01T00:00:00.000Z', token: '[redacted]', list: [{ '[redacted]': '[redacted]' }], n: 5 });
    expect(result.token).toBe('abcd');
    expect(redactJson(result, [])).toBe(result);
  });
});

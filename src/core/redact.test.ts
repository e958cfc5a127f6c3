import { describe, expect, it } from 'vitest';
import { redactFields, redactUrl } from './redact.ts';

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
});

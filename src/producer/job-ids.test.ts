import { describe, expect, it } from 'vitest';
import { idempotentJobId, newJobId, queueOfJobId } from './job-ids.ts';

describe('job ids', () => {
  it('carry their queue and never contain ":" (BullMQ forbids it)', () => {
    const id = newJobId('product-images');
    expect(id).toMatch(/^product-images\.[0-9a-f-]{36}$/);
    expect(queueOfJobId(id)).toBe('product-images');
    expect(idempotentJobId('order', 'order.x', 'a:b:c', 'api:checkout')).not.toContain(':');
  });
  it('the same key for the same task and enqueuer gives the same id; another task or enqueuer gets another', () => {
    expect(idempotentJobId('order', 'order.a', 'k', 's')).toBe(idempotentJobId('order', 'order.a', 'k', 's'));
    expect(idempotentJobId('order', 'order.a', 'k', 's')).not.toBe(idempotentJobId('order', 'order.b', 'k', 's'));
    expect(idempotentJobId('order', 'order.a', 'k', 's')).not.toBe(idempotentJobId('order', 'order.a', 'k', 't'));
  });
  it('plain numeric ids name no queue', () => {
    expect(queueOfJobId('42')).toBeUndefined();
  });
});

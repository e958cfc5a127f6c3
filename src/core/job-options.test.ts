import { describe, expect, it } from 'vitest';
import { catalog } from '../contracts/index.ts';
import { jobOptionsFor, withJobId } from './job-options.ts';
import { META_KEY, withMeta } from './job-meta.ts';

describe('hot-path copies written out by hand', () => {
  it.each(Object.values(catalog).map((c) => [c.name, c] as const))('withJobId(%s) equals the spread it replaces', (_name, contract) => {
    const opts = jobOptionsFor(contract);
    expect(withJobId(opts, 'order.x')).toStrictEqual({ ...opts, jobId: 'order.x' });
  });

  it('withMeta copies the payload, adds the metadata, and leaves the payload untouched', () => {
    const payload = { orderId: 'o-1', nested: { a: 1 } };
    const data = withMeta(payload, { service: 'cart' });
    expect(data).toStrictEqual({ orderId: 'o-1', nested: { a: 1 }, [META_KEY]: { service: 'cart' } });
    expect(payload).not.toHaveProperty(META_KEY);
    expect(withMeta('not an object', { service: 'cart' })).toStrictEqual({ [META_KEY]: { service: 'cart' } });
    // A payload's own `$hub` never replaces the hub's metadata.
    expect(withMeta({ id: 1, [META_KEY]: { requestId: 'spoofed' } }, { service: 'cart' })[META_KEY]).toStrictEqual({ service: 'cart' });
    // An own "__proto__" key (JSON.parse makes one) stays data, never a prototype.
    const hostile = JSON.parse('{"__proto__":{"polluted":true},"id":1}') as object;
    const copy = withMeta(hostile, {});
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

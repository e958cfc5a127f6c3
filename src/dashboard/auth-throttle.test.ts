import { describe, expect, it } from 'vitest';
import { clientOf, createAuthThrottle } from './auth-throttle.ts';

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe('the auth throttle', () => {
  it('holds an address back for the rest of its window after 10 failures, then forgets it', () => {
    const c = clock();
    const throttle = createAuthThrottle({ now: c.now });
    for (let i = 0; i < 9; i++) throttle.failed('10.0.0.1');
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
    c.advance(20_000);
    throttle.failed('10.0.0.1');
    expect(throttle.retryAfter('10.0.0.1')).toBe(40);
    expect(throttle.retryAfter('10.0.0.2')).toBe(0);
    c.advance(40_000);
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
    throttle.failed('10.0.0.1');
    expect(throttle.retryAfter('10.0.0.1')).toBe(0);
  });

  it('holds back, for a hot account, only the addresses that failed', () => {
    const throttle = createAuthThrottle({ now: clock().now });
    for (let i = 0; i < 10; i++) throttle.failed(`10.0.1.${i}`, 'admin');
    expect(throttle.retryAfter('10.0.1.3', 'admin')).toBe(60);
    expect(throttle.retryAfter('10.0.1.3', 'viewer')).toBe(0);
    expect(throttle.retryAfter('10.0.1.3')).toBe(0);
    expect(throttle.retryAfter('10.0.2.1', 'admin')).toBe(0);
  });

  it('keeps at most maxEntries windows, dropping the oldest', () => {
    const throttle = createAuthThrottle({ now: clock().now, maxEntries: 3, maxFailures: 1 });
    for (const a of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']) throttle.failed(a);
    expect(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((a) => throttle.retryAfter(a) > 0)).toEqual([false, true, true, true]);
  });

  it('counts one IPv6 /64 as one client, and an IPv4-mapped address as the IPv4 one', () => {
    expect(clientOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientOf('192.0.2.7')).toBe('192.0.2.7');
    expect(clientOf('2001:db8:0:12:1:2:3:4')).toBe('2001:db8:0:12::/64');
    expect(clientOf('2001:db8:0:12::99')).toBe('2001:db8:0:12::/64');
    expect(clientOf('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(clientOf('::1')).toBe('0:0:0:0::/64');
    expect(clientOf('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    const throttle = createAuthThrottle({ now: clock().now, maxFailures: 2 });
    throttle.failed('2001:db8:0:12::1');
    throttle.failed('2001:db8:0:12::2');
    expect(throttle.retryAfter('2001:db8:0:12:ffff::3')).toBe(60);
    expect(throttle.retryAfter('2001:db8:0:13::1')).toBe(0);
  });
});

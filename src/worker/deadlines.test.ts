import { describe, expect, it } from 'vitest';
import { Deadlines, type Expiring } from './deadlines.ts';

const item = (inMs: number, onExpire: (at: number) => void): Expiring => {
  const expiresAt = performance.now() + inMs;
  return { expiresAt, expire: () => onExpire(performance.now()) };
};

describe('Deadlines: one timer for every deadline in flight', () => {
  it('expires an item after its deadline, within the resolution, never before', async () => {
    const deadlines = new Deadlines(20);
    const fired = await new Promise<{ at: number; due: number }>((resolve) => {
      const due = performance.now() + 60;
      deadlines.add(item(60, (at) => resolve({ at, due })));
    });
    expect(fired.at).toBeGreaterThanOrEqual(fired.due);
    // The resolution plus generous slack for a loaded CI machine.
    expect(fired.at - fired.due).toBeLessThan(20 + 200);
    expect(deadlines.size).toBe(0);
  });

  it('a deleted item never expires, and the rest still do', async () => {
    const deadlines = new Deadlines(10);
    const expired: string[] = [];
    const settled = item(20, () => expired.push('settled'));
    deadlines.add(settled);
    const late = new Promise<void>((resolve) => deadlines.add(item(60, () => (expired.push('late'), resolve()))));
    deadlines.delete(settled);
    await late;
    expect(expired).toEqual(['late']);
  });

  it('lists what is in flight, and iterating while items expire is safe', () => {
    const deadlines = new Deadlines();
    const a = item(1_000, () => {});
    const b = item(1_000, () => {});
    deadlines.add(a);
    deadlines.add(b);
    for (const x of deadlines.items()) deadlines.delete(x);
    expect(deadlines.size).toBe(0);
    expect(deadlines.items()).toEqual([]);
  });
});

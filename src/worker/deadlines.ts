/** Something in flight that must end by `expiresAt` (performance.now() time). */
export interface Expiring {
  readonly expiresAt: number;
  expire(): void;
}

/**
 * The timeouts of every attempt in flight, checked by one timer instead of a setTimeout per
 * attempt (a Timeout object, a closure, a promise to race, then clearTimeout: per job). A
 * deadline fires within `resolutionMs` after it is due, never before.
 */
export class Deadlines<T extends Expiring = Expiring> {
  private readonly pending = new Set<T>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly resolutionMs = 50) {}

  add(item: T): void {
    this.pending.add(item);
    this.timer ??= setTimeout(this.sweep, this.resolutionMs).unref();
  }

  delete(item: T): void {
    this.pending.delete(item);
  }

  get size(): number {
    return this.pending.size;
  }

  /** What is in flight now (a copy: expiring or deleting while iterating is safe). */
  items(): T[] {
    return [...this.pending];
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    for (const item of this.pending) {
      if (item.expiresAt > now) continue;
      this.pending.delete(item);
      item.expire();
    }
    // The timer runs only while something is in flight.
    this.timer = this.pending.size ? setTimeout(this.sweep, this.resolutionMs).unref() : undefined;
  };
}

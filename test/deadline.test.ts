import { describe, expect, it } from 'vitest';
import { EnqueueError } from '../src/core/errors.ts';
import { asEnqueueError } from '../src/producer/deadline.ts';

describe('asEnqueueError tells Redis errors from the rest', () => {
  it.each([
    ['MOVED 3999 127.0.0.1:6381'],
    ['OOM command not allowed when used memory > maxmemory'],
    ["READONLY You can't write against a read only replica."],
    ['Connection is closed.'],
    ['connect ECONNREFUSED 127.0.0.1:6379'],
  ])('%s is an EnqueueError with its cause kept', (message) => {
    const cause = new Error(message);
    const err = asEnqueueError(cause, 'could not enqueue');
    expect(err).toBeInstanceOf(EnqueueError);
    expect(err.cause).toBe(cause);
  });

  it('an error that only contains a Redis code inside a word passes through as it is', () => {
    // It used to match /MOVED/i and answer 503 "Redis unavailable" for a plain 404.
    const notFound = new Error('no job of event order.created "e-1" found (never published, or removed by retention)');
    expect(asEnqueueError(notFound, 'could not cancel')).toBe(notFound);
    const ask = new Error('the task asked for a bigger, roomier box');
    expect(asEnqueueError(ask, 'x')).toBe(ask);
  });
});

import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { ServiceRejectedError } from '../service-clients/classify.ts';
import { encodeFailure, failureRecordOf, readFailure } from './failure-record.ts';
import { InvalidPayloadError, TaskTimeoutError } from './errors.ts';

const httpError = (status: number) => Object.assign(new Error(`Response code ${status}`), { name: 'HTTPError', response: { statusCode: status } });

describe('failure records', () => {
  it('classifies the errors a job can fail with, and keeps the HTTP status of the last call', () => {
    expect(failureRecordOf(new ServiceRejectedError('404', { cause: httpError(404) }))).toEqual({ class: 'permanent', status: 404 });
    expect(failureRecordOf(httpError(503))).toEqual({ class: 'retryable', status: 503 });
    expect(failureRecordOf(new TaskTimeoutError('order.generateInvoice', 100))).toEqual({ class: 'timeout' });
    expect(failureRecordOf(new InvalidPayloadError('order.generateInvoice', 'bad'))).toEqual({ class: 'permanent' });
    expect(failureRecordOf(new UnrecoverableError('cancelled: by ops'))).toEqual({ class: 'cancelled' });
    expect(failureRecordOf(Object.assign(new Error('expired'), { name: 'JobExpiredError' }))).toEqual({ class: 'expired' });
    expect(failureRecordOf(new Error('ECONNRESET'))).toEqual({ class: 'retryable' });
    expect(failureRecordOf('a string')).toEqual({ class: 'retryable' });
  });

  it('round-trips through the stored field, and reads jobs failed without one from their reason', () => {
    expect(readFailure(encodeFailure({ class: 'permanent', status: 404 }), 'x')).toEqual({ class: 'permanent', status: 404 });
    expect(readFailure(encodeFailure({ class: 'timeout' }), 'x')).toEqual({ class: 'timeout' });
    expect(readFailure(null, 'cancelled: deploy rollback')).toEqual({ class: 'cancelled' });
    expect(readFailure(null, 'expired')).toEqual({ class: 'expired' });
    expect(readFailure(null, 'order.generateInvoice timed out after 60000 ms')).toEqual({ class: 'timeout' });
    expect(readFailure(null, 'job stalled more than allowable limit')).toEqual({ class: 'retryable' });
    expect(readFailure('garbage:x', null)).toEqual({ class: 'retryable' });
  });
});

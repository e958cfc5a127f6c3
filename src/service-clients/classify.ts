import { HTTPError } from 'got';
import { PermanentError } from '../core/errors.ts';

export class ServiceRejectedError extends PermanentError {
  override name = 'ServiceRejectedError';
}

/** Will the same request ever succeed? 4xx says no, except 408 (timeout) and 429 (slow down). */
const isPermanentStatus = (status: number) => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** 4xx (but 408/429) becomes permanent; 5xx, timeouts and connection errors stay retryable. */
export const classifyHttpError = (err: unknown): unknown =>
  err instanceof HTTPError && isPermanentStatus(err.response.statusCode)
    ? new ServiceRejectedError(err.message, { cause: err })
    : err;

import type { Response } from 'express';
import type { InvalidOptionError } from '../core/errors.ts';

/**
 * Every JSON refusal of the dashboard and the API, in one shape:
 * `{ "error": { "code": "...", "message": "...", ...extra } }` (INTEGRATION.md).
 */
export const sendError = (res: Response, status: number, code: string, message: string, extra: object = {}): void => {
  res.status(status).json({ error: { code, message, ...extra } });
};

/** 400 `invalid_option` naming the option, as `path` when the caller knows it by another name (a header). */
export const sendInvalidOption = (res: Response, err: InvalidOptionError, path: string = err.field): void => {
  const detail = err.message.slice(err.field.length + 2);
  sendError(res, 400, 'invalid_option', `${path}: ${detail}`, { fields: [{ path, message: detail }], fieldCount: 1 });
};

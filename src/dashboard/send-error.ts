import type { Response } from 'express';

/**
 * Every JSON refusal of the dashboard and the API, in one shape:
 * `{ "error": { "code": "...", "message": "...", ...extra } }` (INTEGRATION.md).
 */
export const sendError = (res: Response, status: number, code: string, message: string, extra: object = {}): void => {
  res.status(status).json({ error: { code, message, ...extra } });
};

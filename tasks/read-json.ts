import { z } from 'zod';
import type { CancelableRequest, Response } from 'got';

/** Parses a service's answer against what the task relies on; a surprise fails with the field named. */
export const readJson = async <S extends z.ZodType>(request: CancelableRequest<Response<string>>, schema: S): Promise<z.output<S>> => {
  const response = await request;
  const parsed = schema.safeParse(JSON.parse(response.body || 'null'));
  if (!parsed.success) {
    const { pathname } = new URL(response.url);
    throw new Error(`unexpected answer from ${response.request.options.method} ${pathname}:\n${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
};

import { z } from 'zod';
import { auth } from '../src/contracts/index.ts';
import { handle } from './context.ts';
import { readJson } from './read-json.ts';

const User = z.object({ id: z.string(), emailVerified: z.boolean() });

export default [
  handle(auth.sendVerificationEmail, async ({ userId, email }, { http, signal }) => {
    const user = await readJson(http.auth.get(`api/users/${userId}`, { signal }), User);
    if (user.emailVerified) return { skipped: 'already-verified' };
    await http.auth.post(`api/users/${userId}/verification-emails`, { json: { email }, signal });
    return { sent: true };
  }),

  handle(auth.sendPasswordResetEmail, async ({ userId, email, resetToken }, { http, signal }) => {
    await http.auth.post(`api/users/${userId}/password-reset-emails`, { json: { email, resetToken }, signal });
    return { sent: true };
  }),

  handle(auth.purgeExpiredSessions, async ({ olderThanHours }, { http, signal }) => {
    const request = http.auth.delete('api/sessions/expired', { searchParams: { olderThanHours }, signal });
    return readJson(request, z.object({ deleted: z.int().min(0) }));
  }),

  handle(auth.revokeUserSessions, async ({ userId, reason }, { http, signal }) => {
    const request = http.auth.post(`api/users/${userId}/sessions/revoke`, { json: { reason }, signal });
    return readJson(request, z.object({ revoked: z.int().min(0) }));
  }),
];

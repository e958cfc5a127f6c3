import { z } from 'zod';
import { auth } from '../src/contracts/index.ts';
import { handle } from './context.ts';
import { readJson } from './read-json.ts';

// Answers are checked against module-level schemas: zod compiles a schema on its first parse, so one built per call costs a compile per job.
const User = z.object({ id: z.string(), emailVerified: z.boolean() });
const Deleted = z.object({ deleted: z.int().min(0) });
const Revoked = z.object({ revoked: z.int().min(0) });

export default [
  handle(auth.sendVerificationEmail, async ({ userId, email }, { http }) => {
    const user = await readJson(http.auth.get(`api/users/${userId}`), User);
    if (user.emailVerified) return { skipped: 'already-verified' };
    await http.auth.post(`api/users/${userId}/verification-emails`, { json: { email } });
    return { sent: true };
  }),

  handle(auth.sendPasswordResetEmail, async ({ userId, email, resetToken }, { http }) => {
    await http.auth.post(`api/users/${userId}/password-reset-emails`, { json: { email, resetToken } });
    return { sent: true };
  }),

  handle(auth.sendPasswordChangedEmail, async ({ userId, email }, { http }) => {
    await http.auth.post(`api/users/${userId}/password-changed-emails`, { json: { email } });
    return { sent: true };
  }),

  handle(auth.purgeExpiredSessions, async ({ olderThanHours }, { http }) => {
    const request = http.auth.delete('api/sessions/expired', { searchParams: { olderThanHours } });
    return readJson(request, Deleted);
  }),

  handle(auth.revokeUserSessions, async ({ userId, reason }, { http }) => {
    const request = http.auth.post(`api/users/${userId}/sessions/revoke`, { json: { reason } });
    return readJson(request, Revoked);
  }),
];

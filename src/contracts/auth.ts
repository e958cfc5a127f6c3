import { z } from 'zod';
import { domain, task } from './task.ts';

export const auth = domain('auth', {
  sendVerificationEmail: task({
    description: 'Ask the auth service to e-mail a verification link, unless the address is already verified.',
    schema: z.strictObject({ userId: z.uuid(), email: z.email() }),
    keys: ['userId'],
    timeoutMs: 15_000,
  }),
  sendPasswordResetEmail: task({
    description: 'Ask the auth service to e-mail a password-reset link carrying the given token.',
    schema: z.strictObject({ userId: z.uuid(), email: z.email(), resetToken: z.string().min(16).max(512) }),
    sensitive: ['resetToken'],
    keys: ['userId'],
    retry: { attempts: 3, backoff: { type: 'exponential', delay: 1_000, jitter: 0.25 } },
    timeoutMs: 15_000,
  }),
  sendPasswordChangedEmail: task({
    description: 'E-mail the user that their password was changed, with what to do if it was not them (on auth.passwordChanged).',
    schema: z.strictObject({ userId: z.uuid(), email: z.email() }),
    timeoutMs: 15_000,
  }),
  purgeExpiredSessions: task({
    description: 'Delete sessions that expired more than `olderThanHours` ago.',
    schema: z.strictObject({ olderThanHours: z.int().min(1).max(24 * 90).default(24) }),
    timeoutMs: 120_000,
  }),
  revokeUserSessions: task({
    description: "Revoke every session of a user (after a password change or an admin's lock).",
    schema: z.strictObject({ userId: z.uuid(), reason: z.enum(['password-changed', 'account-locked', 'user-request']) }),
    keys: ['userId'],
    timeoutMs: 15_000,
  }),
});

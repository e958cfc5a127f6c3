import { z } from 'zod';
import { queues } from '../../queues.config.ts';
import { ConfigError } from '../core/errors.ts';
import { HUB_PREFIX } from '../core/keys.ts';

const queueNames = Object.keys(queues);
const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
const serviceUrl = (port: number) => z.url({ protocol: /^https?$/ }).default(`http://127.0.0.1:${port}`);

/** Every variable a hub process reads. `.env.example` is kept in step with this by a test. */
export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  HUB_PREFIX: z.string().regex(HUB_PREFIX, 'letters, digits, - and _ only').default('hub'),

  HUB_QUEUES: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (!s?.trim()) return queueNames;
      const picked = s.split(',').map((q) => q.trim()).filter(Boolean);
      const unknown = picked.filter((q) => !queueNames.includes(q));
      if (unknown.length) ctx.addIssue({ code: 'custom', message: `unknown queue(s) ${unknown.join(', ')}; known: ${queueNames.join(', ')}` });
      return picked;
    }),
  WORKER_GRACE_MS: ms(25_000),

  HTTP_TIMEOUT_MS: ms(10_000),
  AUTH_SERVICE_URL: serviceUrl(4001),
  CART_SERVICE_URL: serviceUrl(4002),
  ORDER_SERVICE_URL: serviceUrl(4003),
  PRODUCT_SERVICE_URL: serviceUrl(4004),

  // beat
  /** How often beat re-reconciles schedule.ts into Redis (restores schedulers edited or deleted by hand). */
  BEAT_RECONCILE_MS: z.coerce.number().int().min(100).default(30_000),
  /** TTL of the lock that keeps beat replicas from reconciling at the same time; longer than one reconcile. */
  BEAT_LOCK_MS: z.coerce.number().int().min(1_000).default(15_000),
  /** A module exporting `schedule` to use instead of schedule.ts (a staging schedule, tests). Unset: schedule.ts. */
  BEAT_SCHEDULE: z.string().optional(),

  // dashboard
  /** Interface to listen on. Unset: 0.0.0.0 in production (containers), 127.0.0.1 elsewhere (a laptop's dev login stays local). */
  DASHBOARD_HOST: z.string().min(1).max(255).optional(),
  DASHBOARD_PORT: z.coerce.number().int().min(0).max(65_535).default(5555),
  /** Full access to the board. Outside production an unset password means admin/admin (with a warning). */
  DASHBOARD_USER: z.string().min(1).max(100).default('admin'),
  DASHBOARD_PASSWORD: z.string().min(1).max(200).optional(),
  /** Optional second account: sees everything, changes nothing (enforced by the server). */
  DASHBOARD_READONLY_USER: z.string().min(1).max(100).optional(),
  DASHBOARD_READONLY_PASSWORD: z.string().min(1).max(200).optional(),
  /** HTTP API clients: `client:token:scope[,scope]` entries separated by `;` (see README). */
  HUB_API_TOKENS: z.string().optional(),
});

export type Env = z.infer<typeof EnvSchema>;

/** Parsed once at start; a bad or missing variable stops the process with its name. */
export const loadEnv = (source: NodeJS.ProcessEnv = process.env): Env => {
  const blanksRemoved = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const result = EnvSchema.safeParse(blanksRemoved);
  if (!result.success) throw new ConfigError(`invalid environment:\n${z.prettifyError(result.error)}`);
  return result.data;
};

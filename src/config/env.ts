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

  // dashboard
});

export type Env = z.infer<typeof EnvSchema>;

/** Parsed once at start; a bad or missing variable stops the process with its name. */
export const loadEnv = (source: NodeJS.ProcessEnv = process.env): Env => {
  const blanksRemoved = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  const result = EnvSchema.safeParse(blanksRemoved);
  if (!result.success) throw new ConfigError(`invalid environment:\n${z.prettifyError(result.error)}`);
  return result.data;
};

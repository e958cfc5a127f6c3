import { z } from 'zod';
import { queues } from '../../queues.config.ts';
import { services } from '../../services.config.ts';
import { ConfigError } from '../core/errors.ts';
import { HUB_PREFIX } from '../core/keys.ts';
import { otelEnv } from './otel-env.ts';
import { checkFlowVariableNames, flowEnvFields } from './flow-env.ts';

const queueNames = Object.keys(queues);
const ms = (fallback: number) => z.coerce.number().int().min(0).default(fallback);
type UrlEnv = (typeof services)[keyof typeof services]['urlEnv'];
/** One `<NAME>_URL` variable per service of services.config.ts. */
const serviceUrls = Object.fromEntries(
  Object.values(services).map((s) => [s.urlEnv, z.url({ protocol: /^https?$/ }).default(s.defaultUrl)]),
) as Record<UrlEnv, z.ZodDefault<z.ZodURL>>;

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;
/** `10.0.0.5:7000,10.0.0.6:7000` -> addresses; each bad entry named. */
const clusterNodes = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s?.trim()) return undefined;
    const entries = s.split(',').map((n) => n.trim()).filter(Boolean);
    const nodes = entries.map((entry) => {
      const m = HOST_PORT.exec(entry);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65_535) {
        ctx.addIssue({ code: 'custom', message: `"${entry.slice(0, 100)}" is not host:port; list cluster nodes as host:port separated by commas, e.g. 10.0.0.5:7000,10.0.0.6:7000` });
      }
      return { host: m?.[1]?.replace(/^\[|\]$/g, '') ?? entry, port };
    });
    return nodes;
  });

/** Every variable a hub process reads. `.env.example` is kept in step with this by a test. */
export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** json (one JSON object a line, the default and the only format in production) or pretty (pino-pretty, for a terminal). */
  LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).default('redis://127.0.0.1:6379'),
  /** A Redis Cluster instead of one Redis: `host:port` of some of its nodes. REDIS_URL then gives only credentials and TLS. */
  REDIS_CLUSTER_NODES: clusterNodes,
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
  ...serviceUrls,
  /** Per service `<STEM>_RATE_LIMIT` / `<STEM>_MAX_IN_FLIGHT` over services.config.ts's limits; per pool its items (flow-env.ts). */
  ...flowEnvFields,

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
  /** Behind a reverse proxy: its hop count or addresses/subnets, so X-Forwarded-For names the client. Unset: the TCP peer. */
  DASHBOARD_TRUST_PROXY: z.string().min(1).max(500).optional(),
  /** Full access to the board. Outside production an unset password means admin/admin (with a warning). */
  DASHBOARD_USER: z.string().min(1).max(100).default('admin'),
  DASHBOARD_PASSWORD: z.string().min(1).max(200).optional(),
  /** Optional second account: sees everything, changes nothing (enforced by the server). */
  DASHBOARD_READONLY_USER: z.string().min(1).max(100).optional(),
  DASHBOARD_READONLY_PASSWORD: z.string().min(1).max(200).optional(),
  /** HTTP API clients: `client:token:scope[,scope]` entries separated by `;` (see README). */
  HUB_API_TOKENS: z.string().optional(),

  ...otelEnv,
});

export type Env = z.infer<typeof EnvSchema>;

/** Parsed once at start; a bad or missing variable stops the process with its name. */
export const loadEnv = (source: NodeJS.ProcessEnv = process.env): Env => {
  const blanksRemoved = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== ''));
  checkFlowVariableNames(blanksRemoved);
  const result = EnvSchema.safeParse(blanksRemoved);
  if (!result.success) throw new ConfigError(`invalid environment:\n${z.prettifyError(result.error)}`);
  if (result.data.NODE_ENV === 'production' && result.data.LOG_FORMAT === 'pretty') {
    // Log collectors parse JSON lines; pino-pretty is a development dependency, absent from the image.
    throw new ConfigError('invalid environment: LOG_FORMAT=pretty is for a terminal; with NODE_ENV=production logs are JSON lines (unset LOG_FORMAT or set it to json)');
  }
  return result.data;
};

/**
 * At most `max` calls in any window of `perMs` milliseconds, over every worker replica: a hard
 * provider quota ("40 requests a minute") written as it is stated.
 */
export interface RateLimit {
  max: number;
  perMs: number;
}

/** The shape of services.config.ts: the HTTP services tasks call, as plain data. */
export interface ServiceSpec {
  description: string;
  /** The environment variable holding its base URL. */
  urlEnv: `${string}_URL`;
  /** Where it is when the variable is unset (a local run). */
  defaultUrl: string;
  /** Fleet-wide call rate; overridden by `<urlEnv without _URL>_RATE_LIMIT=max/perMs`. */
  rateLimit?: RateLimit;
  /** Calls in flight at once, fleet-wide; overridden by `<urlEnv without _URL>_MAX_IN_FLIGHT`. */
  maxInFlight?: number;
  /**
   * The longest a call waits in its worker for its turn (default 5 s, and never past the
   * attempt's timeout); a longer wait sends the job back to delayed without spending an attempt.
   */
  maxWaitMs?: number;
  /** Route every call through an item leased from this pool of pools.config.ts (an HTTP proxy). */
  pool?: string;
}

export const SERVICE_NAME = /^[a-z][a-zA-Z0-9]{0,40}$/;

export const defineServices = <const S extends Record<string, ServiceSpec>>(services: S): S => {
  const envs = new Set<string>();
  for (const [name, spec] of Object.entries(services)) {
    if (!SERVICE_NAME.test(name)) throw new Error(`services.config.ts: service name "${name}" must match ${SERVICE_NAME} (it is ctx.http.<name>)`);
    if (envs.has(spec.urlEnv)) throw new Error(`services.config.ts: ${spec.urlEnv} is given to two services`);
    envs.add(spec.urlEnv);
  }
  return services;
};

/** `PRICING_API_URL` -> `PRICING_API`: the stem of a service's other variables. */
export const envStemOf = (spec: Pick<ServiceSpec, 'urlEnv'>): string => spec.urlEnv.slice(0, -'_URL'.length);

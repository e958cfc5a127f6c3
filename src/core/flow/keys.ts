/**
 * Where flow control keeps its state. Each limiter, key and pool has a hash tag of its own, so
 * every script touches one slot and a Redis Cluster spreads them over shards; `deletePrefix`
 * (src/core/keys.ts) removes them with the rest of a prefix.
 */
export const serviceTag = (hubPrefix: string, service: string): string => `{${hubPrefix}-svc-${service}}`;

export const serviceKeys = (hubPrefix: string, service: string) => {
  const tag = serviceTag(hubPrefix, service);
  return {
    /** When the next call may leave (the rate limit's pacing), ms on Redis's clock. */
    next: `${tag}:next`,
    /** Set while the service asked everyone to wait (429/503 with Retry-After); expires on its own. */
    holdOff: `${tag}:hold-off`,
    /** Calls on their way, score = when the entry lapses if its worker died. */
    inFlight: `${tag}:in-flight`,
  };
};

/** One task's per-key slots; the key value itself is in the key name. */
export const keyTag = (hubPrefix: string, task: string): string => `{${hubPrefix}-key-${task}}`;

export const slotKeys = (hubPrefix: string, task: string, key: string) => {
  const tag = keyTag(hubPrefix, task);
  return {
    /** Jobs holding (or handed) a slot of this key, score = when the slot lapses. */
    held: `${tag}:held:${key}`,
    /** Jobs waiting for this key, score = enqueue time (FIFO). */
    waiting: `${tag}:wait:${key}`,
    /** Waiting jobs per key of the task (key -> count), for metrics and the status endpoint. */
    counts: `${tag}:waiting`,
    /** Breaks ties between jobs enqueued in the same ms. */
    seq: `${tag}:seq`,
  };
};

export const poolTag = (hubPrefix: string, pool: string): string => `{${hubPrefix}-pool-${pool}}`;

export const poolKeys = (hubPrefix: string, pool: string) => {
  const tag = poolTag(hubPrefix, pool);
  return {
    /** Items not leased, score = when each may be leased again (after its cooldown). */
    free: `${tag}:free`,
    /** Items leased, score = when the lease lapses if its worker died. */
    leased: `${tag}:leased`,
    /** Item -> the lease holding it, so only the holder returns or renews it. */
    owners: `${tag}:owners`,
  };
};

/** Flow counters every worker adds to (batched), read by the dashboard's /metrics. */
export const flowMetricsKey = (hubPrefix: string): string => `{${hubPrefix}-metrics}:flow`;

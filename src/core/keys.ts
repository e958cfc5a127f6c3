/**
 * BullMQ keys are `<prefix>:<queue>:...`. Wrapping the prefix in braces makes it a Redis
 * Cluster hash tag, so every key of one queue lands in one slot and queues can be spread
 * over shards. Flows across queues would need one slot: keep them within one queue.
 */
export const queuePrefix = (hubPrefix: string, queue: string): string => `{${hubPrefix}-${queue}}`;

export const HUB_PREFIX = /^[A-Za-z0-9_-]{1,40}$/;

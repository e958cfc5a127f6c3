import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../redis.ts';
import type { ServiceLimits } from './limits.ts';
import { BackPressureError, sleep, type BackPressureReason } from './back-pressure.ts';
import type { FlowMetrics } from './flow-metrics.ts';
import { serviceKeys } from './keys.ts';
import { NOW_MS, script } from './scripts.ts';

/**
 * One call's turn, in one round trip. In order: a hold-off the service asked for (2, its ms
 * left); the in-flight cap (3, ms until the oldest entry lapses); the rate, paced (GCRA without
 * burst): turns are ARGV[1] ms apart (the limit's window plus its margin, over max), so no window
 * of the limit's length ever holds more than max of them, and calls leave one by one rather
 * than in bursts whose own jitter could crowd a window at the service. A turn may lie in the future: the caller sleeps until it (1, ms to wait). A turn
 * further away than ARGV[2] is not taken (0, ms it would have waited): that job is deferred.
 * ARGV[3] names the call, ARGV[4] is how long its in-flight entry outlives a dead worker,
 * ARGV[5] the in-flight cap (0: none). KEYS: next free turn, hold-off, in-flight.
 */
const TAKE = script(
  `${NOW_MS}
local hold = redis.call('PTTL', KEYS[2])
if hold > 0 then return {2, hold} end
local inFlightMax = tonumber(ARGV[5])
if inFlightMax > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= inFlightMax then
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {3, math.ceil(tonumber(first[2]) - now)}
  end
end
local grant = now
local interval = tonumber(ARGV[1])
if interval > 0 then
  local free = tonumber(redis.call('GET', KEYS[1]) or '0')
  if free > grant then grant = free end
  if grant - now > tonumber(ARGV[2]) then return {0, math.ceil(grant - now)} end
  local nextFree = grant + interval
  redis.call('SET', KEYS[1], tostring(nextFree), 'PX', math.ceil(nextFree - now) + 1000)
end
if inFlightMax > 0 then
  local lapse = grant + tonumber(ARGV[4])
  redis.call('ZADD', KEYS[3], lapse, ARGV[3])
  if redis.call('PTTL', KEYS[3]) < lapse - now then redis.call('PEXPIRE', KEYS[3], math.ceil(lapse - now)) end
end
return {1, math.ceil(grant - now)}`,
  3,
);

/** Only ever lengthens a hold-off: two workers' 429s keep the later of their Retry-Afters. */
const HOLD_OFF = script(
  `if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
  return 1
end
return 0`,
  1,
);

const REASONS: Record<number, BackPressureReason> = { 0: 'rate-limit', 2: 'hold-off', 3: 'in-flight' };
/** A waiter for an in-flight place re-checks at this pace (doubling), or at once when a call of this process ends. */
const FIRST_RECHECK_MS = 25;
const LAST_RECHECK_MS = 1_000;
/** What a call needs after its wait to still fit in its attempt. */
const CALL_RESERVE_MS = 1_000;

export interface TakeOptions {
  signal?: AbortSignal | null;
  /** performance.now() at which the attempt times out: a wait past it defers the job instead. */
  expiresAt?: number;
}

/**
 * A service's limits as seen by one worker process: every call takes its turn from Redis
 * before it leaves (one EVALSHA), sleeps until its grant time, and gives back its in-flight
 * place when it ends. Built only for services that have a limit.
 */
export class ServiceGate {
  private readonly keys: ReturnType<typeof serviceKeys>;
  private readonly ids = `${randomBytes(4).toString('hex')}:`;
  private seq = 0;
  private roundTrip = 1;
  private readonly inFlightWaiters = new Set<() => void>();

  constructor(
    private readonly redis: RedisClient,
    hubPrefix: string,
    readonly limits: ServiceLimits,
    /** How long an in-flight entry lives if its worker dies mid-call: the request timeout plus a margin. */
    private readonly callTtlMs: number,
    private readonly metrics?: FlowMetrics,
  ) {
    this.keys = serviceKeys(hubPrefix, limits.service);
  }

  get service(): string {
    return this.limits.service;
  }

  /** Waits for this call's turn. Resolves with the call's id (give it to `done`), or throws BackPressureError. */
  async take({ signal, expiresAt }: TakeOptions = {}): Promise<string> {
    const { rateLimit, maxInFlight } = this.limits;
    const started = performance.now();
    const id = this.ids + (this.seq++).toString(36);
    let recheck = FIRST_RECHECK_MS;
    for (;;) {
      const elapsed = performance.now() - started;
      const budget = expiresAt === undefined ? Infinity : expiresAt - performance.now() - CALL_RESERVE_MS;
      const maxWait = Math.max(0, Math.min(this.limits.maxWaitMs - elapsed, budget));
      // Redis ran the script about half a round trip after this: the turn is then + ms.
      const sentAt = performance.now();
      const [code, ms] = (await TAKE(
        this.redis,
        this.keys.next,
        this.keys.holdOff,
        this.keys.inFlight,
        rateLimit ? (rateLimit.perMs + rateLimit.marginMs) / rateLimit.max : 0,
        Math.floor(maxWait),
        id,
        this.callTtlMs,
        maxInFlight ?? 0,
      )) as [number, number];
      // The shortest round trip seen lately: what the network costs, as opposed to a busy loop.
      this.roundTrip = Math.min(performance.now() - sentAt, this.roundTrip + 0.05);
      if (code === 1) {
        const due = sentAt + this.roundTrip / 2 + ms;
        if (ms > 0) {
          // Checked a little before the turn, so the check's own round trip does not make it late.
          const guard = Math.min(ms, 2 + 2 * this.roundTrip);
          await sleep(ms - guard, signal).catch((err: unknown) => {
            this.forget(id);
            throw err;
          });
          // A 429 while this call slept voids its turn: no call leaves during a hold-off.
          if ((await this.redis.pttl(this.keys.holdOff)) > 0) {
            this.forget(id);
            continue;
          }
          const rest = due - performance.now();
          if (rest >= 1) await sleep(rest, signal).catch((err: unknown) => {
            this.forget(id);
            throw err;
          });
        }
        // Late for its turn (a busy event loop delayed the answer or the wake-up): leaving now
        // would crowd the turns after it into one window at the service. It takes a new turn.
        if (rateLimit && performance.now() - due > rateLimit.marginMs / 2) {
          this.forget(id);
          this.metrics?.count('svc', this.service, 'late');
          continue;
        }
        this.metrics?.call(this.service, performance.now() - started);
        return id;
      }
      const wait = code === 3 ? Math.min(Math.max(ms, 1), recheck) : ms;
      if (wait > maxWait) {
        this.metrics?.count('svc', this.service, 'deferred');
        throw new BackPressureError(this.service, REASONS[code] ?? 'rate-limit', Date.now() + (code === 3 ? LAST_RECHECK_MS : ms));
      }
      if (code === 3) {
        recheck = Math.min(recheck * 2, LAST_RECHECK_MS);
        await this.inFlightFreed(wait, signal);
      } else await sleep(wait, signal);
    }
  }

  /** The call ended (answer, error or abort): its in-flight place is free. */
  done(id: string): void {
    if (this.limits.maxInFlight === undefined) return;
    this.redis.zrem(this.keys.inFlight, id).catch(() => undefined);
    for (const wake of this.inFlightWaiters) wake();
  }

  /**
   * The service answered 429/503 with Retry-After: no worker calls it for `ms` (only ever
   * lengthened). Calls already waiting for their turn see it before they leave.
   */
  async holdOff(ms: number, status: number): Promise<void> {
    await HOLD_OFF(this.redis, this.keys.holdOff, Math.ceil(ms), String(status));
  }

  /** A turn that will not be used: its in-flight place goes back (its rate turn stays spent). */
  private forget(id: string): void {
    if (this.limits.maxInFlight !== undefined) this.redis.zrem(this.keys.inFlight, id).catch(() => undefined);
  }

  private inFlightFreed(ms: number, signal?: AbortSignal | null): Promise<void> {
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    this.inFlightWaiters.add(wake);
    return Promise.race([woken, sleep(ms, signal)]).finally(() => this.inFlightWaiters.delete(wake));
  }
}

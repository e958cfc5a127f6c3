import { copyFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cronParserVersion, nextRuns } from '../../src/beat/engine.ts';
import { formatIn, nextRunsTable } from '../../src/beat/next-runs-table.ts';
import { planEntries, ScheduleError } from '../../src/beat/plan-entries.ts';
import { runBeat } from '../../src/beat/run-beat.ts';
import { defineSchedule } from '../../src/contracts/schedule.ts';
import { ConfigError } from '../../src/core/errors.ts';
import { schedule } from '../../schedule.ts';
import { testRedisUrl } from '../helpers/test-hub.ts';
import { beatEnv, captureLog, spawnBeat } from './helpers.ts';

const BAD_SCHEDULE = 'test/beat/fixtures/bad-schedule.ts';
const ok = { id: 'cart-purge', task: 'cart.purgeExpiredCarts', cron: '*/15 * * * *' };
const problemsOf = (entries: unknown[]): string[] => {
  try {
    planEntries(entries);
  } catch (err) {
    expect(err).toBeInstanceOf(ScheduleError);
    expect(err).toBeInstanceOf(ConfigError); // runMain prints it without a stack and exits 1
    return (err as ScheduleError).problems;
  }
  throw new Error('expected the schedule to be rejected');
};

describe('beat: schedule validation, each problem naming its entry', () => {
  it('accepts the shipped schedule.ts, one entry per domain at least', () => {
    const planned = planEntries(schedule);
    expect(new Set(planned.map((e) => e.task.split('.')[0]))).toEqual(new Set(['auth', 'cart', 'order', 'product']));
  });

  it.each([
    ['unknown task', { ...ok, task: 'cart.purgeExpiredCart' }, 'entry "cart-purge": unknown task "cart.purgeExpiredCart" (did you mean "cart.purgeExpiredCarts"?)'],
    ['payload failing the schema', { ...ok, payload: { olderThanHours: 0 } }, 'entry "cart-purge": invalid payload for cart.purgeExpiredCarts:\n✖ Too small: expected number to be >=1\n  → at olderThanHours'],
    ['payload with an unknown field', { ...ok, payload: { olderThan: 5 } }, 'entry "cart-purge": invalid payload for cart.purgeExpiredCarts:\n✖ Unrecognized key: "olderThan"'],
    ['cron out of range', { ...ok, cron: '61 * * * *' }, `entry "cart-purge": cron "61 * * * *" is rejected by BullMQ's cron engine: Constraint error, got value 61 expected range 0-59`],
    ['cron with an impossible day', { ...ok, cron: '0 0 30 2 *' }, `entry "cart-purge": cron "0 0 30 2 *" is rejected by BullMQ's cron engine: Invalid explicit day of month definition`],
    ['cron that is not one', { ...ok, cron: 'every day' }, `entry "cart-purge": cron "every day" is rejected by BullMQ's cron engine`],
    ['unknown time zone', { ...ok, tz: 'Europe/Berlim' }, 'entry "cart-purge": unknown time zone "Europe/Berlim" (use an IANA name such as "Europe/Berlin")'],
    ['neither cron nor everyMs', { id: 'cart-purge', task: 'cart.purgeExpiredCarts' }, 'entry "cart-purge": needs cron or everyMs'],
    ['both cron and everyMs', { ...ok, everyMs: 60_000 }, 'entry "cart-purge": has both cron and everyMs; give one'],
    ['everyMs below a second', { id: 'cart-purge', task: 'cart.purgeExpiredCarts', everyMs: 10 }, 'entry "cart-purge": everyMs must be an integer >= 1000, got 10'],
    ['tz on an interval', { id: 'cart-purge', task: 'cart.purgeExpiredCarts', everyMs: 60_000, tz: 'UTC' }, 'entry "cart-purge": tz applies to cron only'],
    ['an id that is not kebab-case', { ...ok, id: 'Cart Purge' }, 'entry "Cart Purge": id must be kebab-case'],
    ['a missing id', { task: 'cart.purgeExpiredCarts', cron: '0 * * * *' }, 'entry #1: id must be kebab-case'],
  ])('%s', (_what, entry, message) => {
    const [problem, ...more] = problemsOf([entry]);
    expect(problem).toContain(message);
    expect(more).toEqual([]);
  });

  it('most of these are compile errors already (checked by `npm run typecheck`)', () => {
    defineSchedule([{ id: 'a', task: 'order.sendConfirmation', everyMs: 1_000, payload: { orderId: 'x', email: 'y' } }]);
    // @ts-expect-error unknown task
    defineSchedule([{ id: 'a', task: 'cart.purgeExpired', cron: '* * * * *' }]);
    // @ts-expect-error payload field of the wrong type
    defineSchedule([{ id: 'a', task: 'cart.purgeExpiredCarts', cron: '* * * * *', payload: { olderThanHours: 'x' } }]);
    // @ts-expect-error a payload is required when the schema has required fields
    defineSchedule([{ id: 'a', task: 'order.sendConfirmation', everyMs: 1_000 }]);
    // @ts-expect-error both cron and everyMs
    defineSchedule([{ id: 'a', task: 'cart.purgeExpiredCarts', cron: '* * * * *', everyMs: 1_000 }]);
    // @ts-expect-error neither cron nor everyMs
    defineSchedule([{ id: 'a', task: 'cart.purgeExpiredCarts' }]);
    // @ts-expect-error tz applies to cron only
    defineSchedule([{ id: 'a', task: 'cart.purgeExpiredCarts', everyMs: 1_000, tz: 'UTC' }]);
  });

  it('duplicate ids', () => {
    expect(problemsOf([ok, { ...ok, cron: '0 * * * *' }])).toEqual(['entry "cart-purge": duplicate id; ids must be unique']);
  });

  it('reports every problem at once', () => {
    const err = (() => {
      try {
        planEntries([{ ...ok, tz: 'Nowhere/Land' }, { ...ok, id: 'b', task: 'nope.nope' }]);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err?.message).toMatch(/^schedule: 2 problems:\n {2}- entry "cart-purge": unknown time zone[^\n]*\n {2}- entry "b": unknown task "nope\.nope"/);
  });

  it('names the file it read: BEAT_SCHEDULE relative to the working directory, or absolute when that is shorter', async () => {
    const { log } = captureLog();
    const inside = resolve(BAD_SCHEDULE);
    await expect(runBeat(beatEnv('tbad', { BEAT_SCHEDULE: inside }), log)).rejects.toThrow(/^test\/beat\/fixtures\/bad-schedule\.ts: 1 problem:\n {2}- entry "cart-purge": unknown task/);
    const outside = join(mkdtempSync(join(tmpdir(), 'beat-schedule-')), 'staging.ts');
    copyFileSync(inside, outside);
    const shown = relative(process.cwd(), outside).length < outside.length ? relative(process.cwd(), outside) : outside;
    await expect(runBeat(beatEnv('tbad', { BEAT_SCHEDULE: outside }), log)).rejects.toThrow(`${shown}: 1 problem:`);
    await expect(runBeat(beatEnv('tbad', { BEAT_SCHEDULE: outside }), log)).rejects.not.toThrow(/schedule\.ts/);
  });

  it('names BEAT_SCHEDULE\'s file when it cannot be loaded', async () => {
    const { log } = captureLog();
    await expect(runBeat(beatEnv('tbad', { BEAT_SCHEDULE: 'test/beat/fixtures/missing.ts' }), log)).rejects.toThrow(
      /^BEAT_SCHEDULE=test\/beat\/fixtures\/missing\.ts: cannot load test\/beat\/fixtures\/missing\.ts: /,
    );
  });

  it('runBeat rejects a bad schedule before touching Redis', async () => {
    const { log } = captureLog();
    await expect(runBeat(beatEnv('tbad'), log, { schedule: [{ ...ok, cron: '* * * * * * *' }] })).rejects.toThrow(/entry "cart-purge": cron/);
  });

  it('`npm run beat` stops with exit code 1 and the message', async () => {
    const beat = spawnBeat({ REDIS_URL: testRedisUrl(), HUB_PREFIX: 'tbad', BEAT_SCHEDULE: BAD_SCHEDULE });
    expect(await beat.exited).toEqual({ code: 1, signal: null });
    expect(beat.lines.all.join('\n')).toContain('beat: test/beat/fixtures/bad-schedule.ts: 1 problem:\n  - entry "cart-purge": unknown task "cart.purgeExpired"');
  });
});

describe('beat: the cron engine is BullMQ\'s', () => {
  it('validates with the cron-parser BullMQ pins, resolved from BullMQ', () => {
    const bullmq = createRequire(import.meta.url)('bullmq/package.json') as { dependencies: Record<string, string> };
    expect(cronParserVersion()).toBe(bullmq.dependencies['cron-parser']);
  });

  it('reads `0 0 1 * 1` as BullMQ fires it (1st of the month OR Monday), where node-cron differs', () => {
    const [entry] = planEntries([{ ...ok, cron: '0 0 1 * 1' }]);
    const runs = nextRuns(entry!.repeat, Date.UTC(2026, 10, 23, 12), 3).map((ms) => new Date(ms).toISOString());
    // Mon 2026-11-30, Tue 2026-12-01, Mon 2026-12-07
    expect(runs).toEqual(['2026-11-30T00:00:00.000Z', '2026-12-01T00:00:00.000Z', '2026-12-07T00:00:00.000Z']);
  });
});

describe('beat: time zones and DST (Europe/Berlin)', () => {
  const berlin = (pattern: string, fromIso: string, count: number) =>
    nextRuns({ pattern, tz: 'Europe/Berlin' }, Date.parse(fromIso), count).map((ms) => formatIn('Europe/Berlin', ms));

  it('spring forward (2026-03-29, 02:00 -> 03:00): a 02:30 run moves to 03:30 that day, once; 03:00 stays', () => {
    expect(berlin('30 2 * * *', '2026-03-28T12:00:00Z', 3)).toEqual([
      '2026-03-29 03:30:00 +02:00',
      '2026-03-30 02:30:00 +02:00',
      '2026-03-31 02:30:00 +02:00',
    ]);
    expect(berlin('0 3 * * *', '2026-03-28T12:00:00Z', 2)).toEqual(['2026-03-29 03:00:00 +02:00', '2026-03-30 03:00:00 +02:00']);
    expect(berlin('0 * * * *', '2026-03-29T00:30:00+01:00', 3)).toEqual([
      '2026-03-29 01:00:00 +01:00',
      '2026-03-29 03:00:00 +02:00',
      '2026-03-29 04:00:00 +02:00',
    ]);
  });

  it('fall back (2026-10-25, 03:00 -> 02:00): a daily 02:30 runs once; an hourly one runs in both 02:00 hours', () => {
    expect(berlin('30 2 * * *', '2026-10-24T12:00:00Z', 2)).toEqual(['2026-10-25 02:30:00 +02:00', '2026-10-26 02:30:00 +01:00']);
    expect(berlin('0 * * * *', '2026-10-25T00:30:00+02:00', 4)).toEqual([
      '2026-10-25 01:00:00 +02:00',
      '2026-10-25 02:00:00 +02:00',
      '2026-10-25 02:00:00 +01:00',
      '2026-10-25 03:00:00 +01:00',
    ]);
  });

  it('the start-up table lists the next three runs in each entry\'s zone', () => {
    const entries = planEntries([
      { id: 'product-reindex', task: 'product.reindex', cron: '0 3 * * *', tz: 'Europe/Berlin' },
      { id: 'auth-sessions', task: 'auth.purgeExpiredSessions', everyMs: 3_600_000 },
    ]);
    const table = nextRunsTable(entries, Date.parse('2026-03-28T12:00:00Z'));
    expect(table).toMatch(/product-reindex\s+product\.reindex\s+0 3 \* \* \*\s+Europe\/Berlin\s+2026-03-29 03:00:00 \+02:00, 2026-03-30 03:00:00 \+02:00, 2026-03-31 03:00:00 \+02:00/);
    expect(table).toMatch(/auth-sessions\s+auth\.purgeExpiredSessions\s+every 1 h\s+UTC\s+now, 2026-03-28 13:00:00 \+00:00, 2026-03-28 14:00:00 \+00:00/);
  });
});

describe('beat: one form for times in every zone: local time and its ASCII UTC offset', () => {
  /** `2026-03-29 03:30:00 +02:00` read back as an instant: the printed offset must be the real one. */
  const instantOf = (printed: string) => Date.parse(printed.replace(' ', 'T').replace(' ', ''));
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York', 'America/St_Johns', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Pacific/Chatham'];

  it.each([
    ['UTC', '2026-01-15T12:00:00Z', '2026-01-15 12:00:00 +00:00'],
    ['Europe/Berlin', '2026-01-15T12:00:00Z', '2026-01-15 13:00:00 +01:00'],
    ['Europe/Berlin', '2026-07-15T12:00:00Z', '2026-07-15 14:00:00 +02:00'],
    ['America/New_York', '2026-01-15T12:00:00Z', '2026-01-15 07:00:00 -05:00'],
    ['America/New_York', '2026-07-15T12:00:00Z', '2026-07-15 08:00:00 -04:00'],
    ['America/St_Johns', '2026-01-15T12:00:00Z', '2026-01-15 08:30:00 -03:30'],
    ['Asia/Kathmandu', '2026-01-15T12:00:00Z', '2026-01-15 17:45:00 +05:45'],
    ['UTC', '2026-12-31T23:59:59Z', '2026-12-31 23:59:59 +00:00'],
    ['Europe/Berlin', '2026-12-31T23:00:00Z', '2027-01-01 00:00:00 +01:00'],
  ])('%s at %s prints %s', (tz, iso, printed) => {
    expect(formatIn(tz, Date.parse(iso))).toBe(printed);
  });

  it('every hour of 2026 in zones with DST, half- and quarter-hour offsets: ASCII only, and it reads back as the same instant', () => {
    const wrong: string[] = [];
    for (const tz of zones) {
      for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2027, 0, 1); ms += 3_600_000) {
        const printed = formatIn(tz, ms);
        if (!/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d$/.test(printed) || instantOf(printed) !== ms) wrong.push(`${tz} ${new Date(ms).toISOString()}: ${printed}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('New York DST (2026-03-08 spring forward, 2026-11-01 fall back): the offset changes with the hour it applies to', () => {
    const ny = (pattern: string, fromIso: string, count: number) =>
      nextRuns({ pattern, tz: 'America/New_York' }, Date.parse(fromIso), count).map((ms) => formatIn('America/New_York', ms));
    expect(ny('0 * * * *', '2026-03-08T00:30:00-05:00', 3)).toEqual(['2026-03-08 01:00:00 -05:00', '2026-03-08 03:00:00 -04:00', '2026-03-08 04:00:00 -04:00']);
    expect(ny('0 * * * *', '2026-11-01T00:30:00-04:00', 3)).toEqual(['2026-11-01 01:00:00 -04:00', '2026-11-01 01:00:00 -05:00', '2026-11-01 02:00:00 -05:00']);
  });

  it('the table uses it for every row, UTC included: no abbreviations, no Unicode minus', () => {
    const table = nextRunsTable(
      planEntries([
        { id: 'berlin', task: 'product.reindex', cron: '0 3 * * *', tz: 'Europe/Berlin' },
        { id: 'new-york', task: 'product.reindex', cron: '0 3 * * *', tz: 'America/New_York' },
        { id: 'utc', task: 'product.reindex', cron: '0 3 * * *' },
      ]),
      Date.parse('2026-01-15T12:00:00Z'),
    );
    expect(table).toMatch(/berlin\s+product\.reindex\s+0 3 \* \* \*\s+Europe\/Berlin\s+2026-01-16 03:00:00 \+01:00,/);
    expect(table).toMatch(/new-york\s+product\.reindex\s+0 3 \* \* \*\s+America\/New_York\s+2026-01-16 03:00:00 -05:00,/);
    expect(table).toMatch(/utc\s+product\.reindex\s+0 3 \* \* \*\s+UTC\s+2026-01-16 03:00:00 \+00:00,/);
    expect(table).toMatch(/^[\x20-\x7e\n]*$/);
    expect(table).not.toMatch(/GMT|CES?T|EST|UTC,/);
  });
});

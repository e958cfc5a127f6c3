import { pauseSchedule, resumeSchedule, triggerSchedule } from '../../control/schedule-actions.ts';
import { listSchedules } from '../../control/schedules.ts';
import { CliUsageError, print, str, type Command } from '../command.ts';
import { table, time } from '../table.ts';

export const schedules: Command = {
  name: 'schedules',
  summary: 'list schedule entries with next and last run; pause, resume or trigger one',
  help: `task-hub schedules [list]
task-hub schedules pause <id>       remove its scheduler; beat keeps it away until resumed
task-hub schedules resume <id>      restore it now (an interval entry runs at once)
task-hub schedules trigger <id> [--request-id ID]
                                    one extra run now; the same request id runs once

  The entries are schedule.ts's (or BEAT_SCHEDULE's module), as beat plans them.`,
  options: { 'request-id': { type: 'string' } },
  async run(ctx, values, [action = 'list', id, ...extra]) {
    if (extra.length) throw new CliUsageError(`unexpected argument "${extra[0]}"`);
    if (action === 'list') {
      if (id) throw new CliUsageError(`unexpected argument "${id}"`);
      const rows = await listSchedules(ctx.control);
      print(ctx, { schedules: rows }, () =>
        table(
          ['schedule', 'task', 'when', 'state', 'next run', 'last run', 'outcome'],
          rows.map((s) => [
            s.id,
            s.task,
            s.cron ? `${s.cron} ${s.tz}` : `every ${s.everyMs! / 1_000} s`,
            s.paused ? 'paused' : s.scheduled ? 'scheduled' : 'not in Redis (run beat)',
            time(s.nextRunAt),
            time(s.lastRun?.at),
            s.lastRun ? `${s.lastRun.outcome}${s.lastRun.error ? `: ${s.lastRun.error}` : ''}` : '',
          ]),
        ),
      );
      return 0;
    }
    if (!['pause', 'resume', 'trigger'].includes(action)) throw new CliUsageError(`unknown action "${action}": list, pause, resume or trigger`);
    if (!id) throw new CliUsageError(`expected: task-hub schedules ${action} <id>`);
    if (action === 'trigger') {
      const requestId = str(values['request-id']);
      const t = await triggerSchedule(ctx.control, id, { who: ctx.who, ...(requestId ? { requestId } : {}) });
      print(ctx, t, () => `${t.duplicate ? 'already triggered with this request id' : 'triggered'}: job ${t.jobId} (${t.task})\n`);
      return 0;
    }
    const change = action === 'pause' ? await pauseSchedule(ctx.control, id, ctx.who) : await resumeSchedule(ctx.control, id, ctx.who);
    print(ctx, change, () => `${change.id}: ${change.paused ? 'paused' : 'resumed'}${change.changed ? '' : ` (it already was ${change.paused ? 'paused' : 'running'})`}\n`);
    return 0;
  },
};

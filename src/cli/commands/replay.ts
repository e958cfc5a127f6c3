import { FailedFilter, parseInput } from '../../control/failed-filter.ts';
import { replay as replayJobs } from '../../control/replay.ts';
import { ERROR_CLASSES } from '../../core/failure-record.ts';
import { CliUsageError, print, type Command } from '../command.ts';
import { table, time } from '../table.ts';

const FILTERS = ['task', 'since', 'until', 'class', 'status'] as const;

export const replay: Command = {
  name: 'replay',
  summary: 'retry failed jobs by filter with a fresh attempt budget (the dead-letter queue)',
  help: `task-hub replay [--task T] [--since D] [--until D] [--class C] [--status S] [--dry-run]
task-hub replay --all [--dry-run]            every failed job of every queue

  --dry-run   count the matching jobs and show a sample; change nothing
  --since, --until   ISO date or epoch ms (when the job failed); --until is capped at now
  --class     ${ERROR_CLASSES.join(', ')}
  --status    the HTTP status of the job's last service call
  Each matching failure is retried once, even with two replays at the same time. Recorded in
  the audit log (task-hub audit). Exit 3 when nothing matches.`,
  options: {
    task: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    class: { type: 'string' },
    status: { type: 'string' },
    'dry-run': { type: 'boolean' },
    all: { type: 'boolean' },
  },
  async run(ctx, values, positionals) {
    if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
    const given = Object.fromEntries(FILTERS.filter((k) => typeof values[k] === 'string').map((k) => [k, values[k]]));
    const dryRun = values['dry-run'] === true;
    if (!Object.keys(given).length && !values.all && !dryRun) throw new CliUsageError('give a filter (--task, --since, --until, --class, --status), or --all to replay every failed job');
    const filter = parseInput(FailedFilter, given, 'filter');
    const r = await replayJobs(ctx.control, filter, { dryRun, who: ctx.who });
    print(ctx, r, () => {
      const head = dryRun
        ? `dry run: ${r.matched} failed job(s) match; nothing was changed\n`
        : `replayed ${r.retried} of ${r.matched} matching job(s)${r.skipped ? `; ${r.skipped} were retried or removed by someone else meanwhile` : ''} in ${r.durationMs} ms\n`;
      const sample = table(
        ['id', 'task', 'failed', 'class', 'status', 'reason'],
        r.sample.map((s) => [s.id, s.task, time(s.finishedAt), s.errorClass, s.httpStatus, s.failedReason]),
      );
      return `${head}${r.sample.length ? `\n${sample}` : ''}`;
    });
    return 0;
  },
};

import { readAudit } from '../../control/audit.ts';
import { listQueues } from '../../control/queues.ts';
import { parseTaskMetrics, seriesToReport, taskMetricsKey } from '../../core/task-metrics.ts';
import { CliUsageError, print, str, type Command } from '../command.ts';
import { table, time } from '../table.ts';

export const stats: Command = {
  name: 'stats',
  summary: 'jobs per queue and state, workers, and finished attempts per task (celery inspect stats)',
  help: `task-hub stats

  Per queue: jobs in each state and the workers connected (over every replica). Per task: the
  attempts completed and failed since the metrics hash was created (what /metrics exports).`,
  async run(ctx, _values, positionals) {
    if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
    const [queues, hash] = await Promise.all([listQueues(ctx.control), ctx.control.redis.hgetall(taskMetricsKey(ctx.control.prefix))]);
    const tasks = seriesToReport(parseTaskMetrics(hash)).map((t) => ({ task: t.task, queue: t.queue, completed: t.stats.completed, failed: t.stats.failed }));
    print(ctx, { queues, tasks }, () => {
      const q = table(
        ['queue', 'state', 'waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed', 'workers'],
        queues.map((r) => [r.name, r.paused ? 'paused' : 'running', r.counts.waiting, r.counts.active, r.counts.delayed, r.counts.prioritized, r.counts.failed, r.counts.completed, r.workers]),
      );
      const t = table(['task', 'queue', 'completed attempts', 'failed attempts'], tasks.map((r) => [r.task, r.queue, r.completed, r.failed]));
      return `${q}\n${t}`;
    });
    return 0;
  },
};

export const auditLog: Command = {
  name: 'audit',
  summary: 'the audit log of control actions, newest first (who, what, when, outcome)',
  help: `task-hub audit [--limit N] [--before ID]

  --limit    1..500 (default 50)
  --before   an entry id: the page before it (paging back)`,
  options: { limit: { type: 'string' }, before: { type: 'string' } },
  async run(ctx, values, positionals) {
    if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
    const limitText = str(values.limit) ?? '50';
    if (!/^\d{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 500) throw new CliUsageError('--limit: 1..500');
    const before = str(values.before);
    if (before !== undefined && !/^\d{1,16}-\d{1,10}$/.test(before)) throw new CliUsageError('--before: an entry id such as 1764806400000-0');
    const entries = await readAudit(ctx.control.redis, ctx.control.prefix, { limit: Number(limitText), ...(before ? { before } : {}) });
    print(ctx, { entries }, () =>
      entries.length
        ? table(['id', 'when (UTC)', 'who', 'action', 'target', 'outcome', 'detail'], entries.map((e) => [e.id, time(e.at), e.who, e.action, e.target, e.outcome, e.detail ? JSON.stringify(e.detail) : '']), 100)
        : 'the audit log is empty\n',
    );
    return 0;
  },
};

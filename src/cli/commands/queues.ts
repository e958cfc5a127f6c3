import { listQueues, parseRate, pauseQueue, resumeQueue, setQueueLimits, type RateLimit } from '../../control/queues.ts';
import { CliUsageError, print, str, type Command } from '../command.ts';
import { table } from '../table.ts';

const rate = (r: RateLimit | null) => (r ? `${r.max}/${r.durationMs}ms` : '-');

const concurrencyOf = (text: string | undefined): number | null | undefined => {
  if (text === undefined) return undefined;
  if (text === 'none') return null;
  if (!/^-?\d+$/.test(text)) throw new CliUsageError(`--concurrency: a whole number (or none), got "${text.slice(0, 50)}"`);
  return Number(text);
};

export const queues: Command = {
  name: 'queues',
  summary: 'list queues; pause, resume, or change their global concurrency and rate limit at run time',
  help: `task-hub queues [list]
task-hub queues pause <queue>          workers take no new jobs from it (every replica)
task-hub queues resume <queue>
task-hub queues limit <queue> [--concurrency N|none] [--rate MAX/MS|none]
                                       e.g. --concurrency 5 --rate 100/1000; none removes one

  Global limits hold across every worker replica together; a global rate limit replaces the
  limiter of queues.config.ts while it is set. 0 and negative limits are refused.`,
  options: { concurrency: { type: 'string' }, rate: { type: 'string' } },
  async run(ctx, values, [action = 'list', name, ...extra]) {
    if (extra.length) throw new CliUsageError(`unexpected argument "${extra[0]}"`);
    if (action === 'list') {
      const rows = await listQueues(ctx.control);
      print(ctx, { queues: rows }, () =>
        table(
          ['queue', 'state', 'waiting', 'active', 'delayed', 'failed', 'workers', 'concurrency (per worker / global)', 'rate (configured / global)'],
          rows.map((q) => [
            q.name,
            q.paused ? 'paused' : 'running',
            q.counts.waiting,
            q.counts.active,
            q.counts.delayed,
            q.counts.failed,
            q.workers,
            `${q.configured.concurrency} / ${q.globalConcurrency ?? '-'}`,
            `${rate(q.configured.rateLimit)} / ${rate(q.globalRateLimit)}`,
          ]),
        ),
      );
      return 0;
    }
    if (!['pause', 'resume', 'limit'].includes(action)) throw new CliUsageError(`unknown action "${action}": list, pause, resume or limit`);
    if (!name) throw new CliUsageError(`expected: task-hub queues ${action} <queue>`);
    if (action === 'limit') {
      const concurrency = concurrencyOf(str(values.concurrency));
      const rateText = str(values.rate);
      if (concurrency === undefined && rateText === undefined) throw new CliUsageError('give --concurrency and/or --rate');
      const input = { ...(concurrency !== undefined ? { concurrency } : {}), ...(rateText !== undefined ? { rateLimit: parseRate(rateText) } : {}) };
      const q = await setQueueLimits(ctx.control, name, input, ctx.who);
      print(ctx, q, () => `${q.name}: global concurrency ${q.globalConcurrency ?? 'none'}, global rate limit ${rate(q.globalRateLimit)}\n`);
      return 0;
    }
    const r = action === 'pause' ? await pauseQueue(ctx.control, name, ctx.who) : await resumeQueue(ctx.control, name, ctx.who);
    print(ctx, r, () => `${r.name}: ${r.paused ? 'paused' : 'resumed'}${r.changed ? '' : ' (no change)'}\n`);
    return 0;
  },
};

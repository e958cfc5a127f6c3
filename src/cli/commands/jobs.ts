import { catalog } from '../../contracts/index.ts';
import { jobInfo, listJobs, parseJobsQuery } from '../../control/jobs.ts';
import { JOB_STATES } from '../../control/find-jobs.ts';
import { ERROR_CLASSES } from '../../core/failure-record.ts';
import type { TaskName } from '../../contracts/index.ts';
import { cancelEventOrRefuse, cancelOrRefuse, cancelWorkflowOrRefuse } from '../../control/cancel.ts';
import { CliUsageError, print, str, type Command } from '../command.ts';
import { fields, table, time } from '../table.ts';

export const enqueue: Command = {
  name: 'enqueue',
  summary: 'enqueue a task by name (celery call)',
  help: `task-hub enqueue <task> <json payload> [--request-id ID] [--idempotency-key KEY] [--delay-ms N]

  Validates the payload against the task's contract, then enqueues it as the producer lib does
  (the job records service "cli:<user>"). Prints the job id.
  e.g. task-hub enqueue order.generateInvoice '{"orderId":"3f2b8c4e-9a1d-4e5f-8b6a-7c0d1e2f3a4b"}'
  Tasks: ${Object.keys(catalog).join(', ')}`,
  options: { 'request-id': { type: 'string' }, 'idempotency-key': { type: 'string' }, 'delay-ms': { type: 'string' } },
  async run(ctx, values, [task, json, ...extra]) {
    if (!task || json === undefined || extra.length) throw new CliUsageError('expected <task> <json payload>');
    let payload: unknown;
    try {
      payload = JSON.parse(json);
    } catch (err) {
      throw new CliUsageError(`the payload is not JSON: ${(err as Error).message}`);
    }
    const delay = str(values['delay-ms']);
    if (delay !== undefined && !/^\d{1,12}$/.test(delay)) throw new CliUsageError('--delay-ms: a whole number of milliseconds');
    const job = await ctx.control.producer(ctx.who).enqueue(task as TaskName, payload as never, {
      ...(str(values['request-id']) ? { requestId: str(values['request-id']) } : {}),
      ...(str(values['idempotency-key']) ? { idempotencyKey: str(values['idempotency-key']) } : {}),
      ...(delay ? { delayMs: Number(delay) } : {}),
    });
    print(ctx, job, () => `${job.id}\n`);
    return 0;
  },
};

export const job: Command = {
  name: 'job',
  summary: 'one job: state, attempts, payload (sensitive fields redacted), result or failure',
  help: `task-hub job <id>

  Exit 3 when no such job exists (never enqueued, or removed by retention).`,
  async run(ctx, _values, [id, ...extra]) {
    if (!id || extra.length) throw new CliUsageError('expected <id>');
    const info = await jobInfo(ctx.control, id);
    print(ctx, info, () => fields({ ...info, createdAt: time(info.createdAt), startedAt: time(info.startedAt), finishedAt: time(info.finishedAt) }));
    return 0;
  },
};

export const jobs: Command = {
  name: 'jobs',
  summary: 'find jobs: failed ones by filter, every job of a business key, or a task in a state',
  help: `task-hub jobs --key <key>:<value>          every job of one order (or cart, user...), every queue, newest first
task-hub jobs --state failed [--task T] [--since D] [--until D] [--class C] [--status S]
task-hub jobs --task <task> --state <state>

  --since, --until   ISO date (2026-05-01, 2026-05-01T12:00:00Z) or epoch ms: when the job failed
  --class            ${ERROR_CLASSES.join(', ')}
  --status           the HTTP status of the failed job's last service call (e.g. 503)
  --state            ${JOB_STATES.join(', ')}
  --limit            1..100 (default 20)
  Exit 3 when nothing matches.`,
  options: {
    task: { type: 'string' },
    state: { type: 'string' },
    key: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    class: { type: 'string' },
    status: { type: 'string' },
    limit: { type: 'string' },
  },
  async run(ctx, values, positionals) {
    if (positionals.length) throw new CliUsageError(`unexpected argument "${positionals[0]}"`);
    const query = parseJobsQuery(Object.fromEntries(Object.entries(values).filter(([k, v]) => k !== 'json' && typeof v === 'string')));
    const found = await listJobs(ctx.control, query);
    const list = found.jobs as { id: string; task: string; state: string; attemptsMade: number; createdAt?: number; finishedAt?: number; failedReason?: string; errorClass?: string; httpStatus?: number }[];
    print(ctx, found, () =>
      list.length
        ? table(
            ['id', 'task', 'state', 'attempts', 'created', 'finished', 'class', 'status', 'reason'],
            list.map((j) => [j.id, j.task, j.state, j.attemptsMade, time(j.createdAt), time(j.finishedAt), j.errorClass, j.httpStatus, j.failedReason]),
          ) + ('complete' in found && found.complete === false ? 'older matches may exist (the scan stopped; narrow the filter)\n' : '')
        : 'no jobs match\n',
    );
    return list.length ? 0 : 3;
  },
};

export const cancel: Command = {
  name: 'cancel',
  summary: 'cancel a job, or every job of a published event (celery revoke)',
  help: `task-hub cancel <id> [--reason TEXT]
task-hub cancel --event <name> <eventId> [--reason TEXT]
task-hub cancel --workflow <workflowId> [--reason TEXT]

  A waiting, delayed or prioritized job is removed and never runs; a running one is aborted in
  whichever worker holds it and fails as "cancelled: <reason>", never retried. Recorded in the
  audit log as cli:<your user>. With --event, every subscriber job of that publish (its outcome
  per job is printed; finished ones are left as they are). With --workflow, the workflow fails as
  cancelled (nothing more of it is enqueued), then its unfinished jobs are cancelled. Exit 3: no
  such job (or no job of the event, no such workflow); 4: the job has already finished (its state
  is printed).`,
  options: { reason: { type: 'string' }, event: { type: 'string' }, workflow: { type: 'string' } },
  async run(ctx, values, [id, ...extra]) {
    const reason = typeof values.reason === 'string' ? values.reason : undefined;
    if (typeof values.workflow === 'string') {
      if (id) throw new CliUsageError('expected --workflow <workflowId> and nothing else');
      const done = await cancelWorkflowOrRefuse(ctx.control, values.workflow, { reason, who: ctx.who });
      ctx.out(ctx.json ? `${JSON.stringify(done)}\n` : [`workflow ${done.workflowId}: ${done.outcome}\n`, ...done.jobs.map((j) => `${j.id}: ${j.outcome}\n`)].join(''));
      return 0;
    }
    if (!id || extra.length) throw new CliUsageError(values.event ? 'expected --event <name> <eventId>' : 'expected <id>');
    if (typeof values.event === 'string') {
      const result = await cancelEventOrRefuse(ctx.control, values.event, id, { reason, who: ctx.who });
      ctx.out(ctx.json ? `${JSON.stringify(result)}\n` : result.jobs.map((j) => `${j.id} (${'task' in j ? j.task : '?'}): ${j.outcome}${'state' in j ? ` (${j.state})` : ''}\n`).join(''));
      return 0;
    }
    const result = await cancelOrRefuse(ctx.control, id, { reason, who: ctx.who });
    ctx.out(ctx.json ? `${JSON.stringify(result)}\n` : `${result.id} (${result.task}): ${result.outcome}\n`);
    return 0;
  },
};

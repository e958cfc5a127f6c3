import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../src/control/audit.ts';
import { COMMANDS, runCli } from '../src/cli/run-cli.ts';
import { testRedisUrl, useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();

/** The CLI in process, as `task-hub ...` runs it: its exit code, stdout and stderr. */
const cli = async (...argv: string[]) => {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: { REDIS_URL: testRedisUrl(), HUB_PREFIX: hub.prefix, NODE_ENV: 'test' },
  });
  return { code, out, err };
};

describe('task-hub, the CLI', () => {
  it('npx task-hub --help lists every command (the bin, from the checkout through tsx)', () => {
    const run = spawnSync(process.execPath, ['bin/task-hub.js', '--help'], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status, run.stderr).toBe(0);
    for (const c of ['enqueue', 'job', 'jobs', 'cancel', 'replay', 'schedules', 'queues', 'stats', 'audit']) expect(run.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(run.stdout).toMatch(/exit codes: 0 ok, 1 failure .* 2 usage error/);
  });

  it('every command has --help (exit 0); an unknown command or flag is a usage error (exit 2)', async () => {
    for (const c of COMMANDS) {
      const r = await cli(c.name, '--help');
      expect(r.code, c.name).toBe(0);
      expect(r.out, c.name).toMatch(new RegExp(`task-hub ${c.name}`));
    }
    expect((await cli('bogus')).code).toBe(2);
    const flag = await cli('jobs', '--colour');
    expect(flag.code).toBe(2);
    expect(flag.err).toMatch(/Unknown option '--colour'/);
  });

  it('cancel: a waiting job is removed and never runs; a second cancel says the same; a finished one is exit 4; audited as cli:<user>', async () => {
    const delayed = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { delayMs: 60_000 });
    const first = await cli('cancel', delayed.id, '--reason', 'duplicate order', '--json');
    expect(first.code, first.err).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ id: delayed.id, task: 'order.generateInvoice', outcome: 'removed' });
    expect(await hub.producer.getJob(delayed.id)).toBeUndefined();
    expect((await cli('cancel', delayed.id)).out).toMatch(/: removed$/m);

    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId: 'inv-1' } });
    const done = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await hub.finished(done);
    const late = await cli('cancel', done.id);
    expect(late.code).toBe(4);
    expect(late.err).toMatch(/has completed: there is nothing to cancel/);

    const [entry] = await readAudit(hub.redis, hub.prefix, { limit: 10 }).then((all) => all.filter((e) => e.target === delayed.id));
    expect(entry).toMatchObject({ who: `cli:${userInfo().username}`, action: 'job.cancel', outcome: 'removed' });
  });

  it('cancel --event: every subscriber job of one publish; an unknown event is a usage error with a suggestion', async () => {
    await hub.stopWorker();
    const published = await hub.producer.publish('auth.passwordChanged', { userId: randomUUID(), email: 'ada@example.com' });
    const run = await cli('cancel', '--event', 'auth.passwordChanged', published.eventId, '--reason', 'test account');
    expect(run.code, run.err).toBe(0);
    expect(run.out.trim().split('\n')).toEqual(published.jobs.map((j) => `${j.id} (${j.task}): removed`));
    for (const j of published.jobs) expect(await hub.producer.getJob(j)).toBeUndefined();
    const typo = await cli('cancel', '--event', 'auth.passwordChange', published.eventId);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/did you mean "auth\.passwordChanged"/);
    expect((await cli('cancel', '--event', 'auth.passwordChanged', randomUUID())).code).toBe(3);
  });

  it('cancel --workflow: the workflow fails as cancelled and its waiting jobs are removed; an unknown one is exit 3', async () => {
    await hub.stopWorker();
    const started = await hub.producer.chain([
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
    ]);
    const run = await cli('cancel', '--workflow', started.workflowId, '--reason', 'order withdrawn');
    expect(run.code, run.err).toBe(0);
    expect(run.out.split('\n').slice(0, 2)).toEqual([`workflow ${started.workflowId}: cancelled`, `${started.jobs[0]!.id}: removed`]);
    expect(await hub.producer.getJob(started.jobs[0]!)).toBeUndefined();
    expect((await hub.producer.getWorkflow(started.workflowId))?.state).toBe('failed');
    expect((await cli('cancel', '--workflow', 'no-such-workflow')).code).toBe(3);
  });

  it('enqueue, job, jobs --key: tables for people, --json for scripts', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const orderId = randomUUID();
    const enq = await cli('enqueue', 'order.generateInvoice', JSON.stringify({ orderId }), '--json');
    expect(enq.code, enq.err).toBe(0);
    const { id } = JSON.parse(enq.out) as { id: string };
    await expect(hub.finished(id)).rejects.toThrow(/404/);

    const job = await cli('job', id);
    expect(job.out).toMatch(new RegExp(`^state +failed$`, 'm'));
    expect(job.out).toMatch(/^errorClass +permanent$/m);
    expect(job.out).toMatch(/^service +cli:/m);
    const byKey = JSON.parse((await cli('jobs', '--key', `orderId:${orderId}`, '--json')).out) as { jobs: { id: string; state: string }[] };
    expect(byKey.jobs).toEqual([expect.objectContaining({ id, state: 'failed' })]);
    const table = await cli('jobs', '--state', 'failed', '--class', 'permanent', '--status', '404');
    expect(table.out.split('\n')[0]).toMatch(/^id +task +state +attempts/);
    expect(table.out).toContain(id);
  });

  it('replay --dry-run, then replay: audited as cli:<os user>', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await expect(hub.finished(job)).rejects.toThrow(/404/);
    const dry = await cli('replay', '--task', 'order.generateInvoice', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toMatch(/dry run: 1 failed job\(s\) match/);
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV' } });
    const real = await cli('replay', '--class', 'permanent', '--json');
    expect(JSON.parse(real.out)).toMatchObject({ matched: 1, retried: 1 });
    await expect(hub.finished(job)).resolves.toEqual({ invoiceId: 'INV' });
    const [entry] = await readAudit(hub.redis, hub.prefix);
    expect(entry).toMatchObject({ who: `cli:${userInfo().username}`, action: 'replay' });
  });

  it('queues and schedules: changes and listings', async () => {
    expect((await cli('queues', 'limit', 'cart', '--concurrency', '4', '--rate', '20/1000')).code).toBe(0);
    const listed = JSON.parse((await cli('queues', '--json')).out) as { queues: { name: string; globalConcurrency: number | null }[] };
    expect(listed.queues.find((q) => q.name === 'cart')?.globalConcurrency).toBe(4);
    expect((await cli('queues', 'pause', 'cart')).out).toBe('cart: paused\n');
    expect((await cli('queues', 'resume', 'cart')).code).toBe(0);
    const schedules = await cli('schedules');
    expect(schedules.out).toMatch(/^order-cancel-unpaid +order\.cancelUnpaidOrders +every 600 s/m);
    const stats = await cli('stats');
    expect(stats.out).toMatch(/^cart +running/m);
    const audit = await cli('audit');
    expect(audit.out).toMatch(/queue\.resume +cart/);
  });

  it('bad input: a message and a non-zero exit (2 bad input, 3 nothing found), nothing changed', async () => {
    const cases: [string[], number, RegExp][] = [
      [['jobs', '--state', 'failed', '--since', 'last week'], 2, /since/],
      [['jobs', '--state', 'failed', '--class', 'permanent'], 3, /no jobs match/],
      [['job', 'order.nope'], 3, /not found/],
      [['replay', '--task', 'order.generateInvoice'], 3, /no failed job matches/],
      [['replay'], 2, /give a filter/],
      [['schedules', 'pause', 'order-cancel-unpiad'], 3, /did you mean "order-cancel-unpaid"/],
      [['schedules', 'frobnicate', 'x'], 2, /unknown action/],
      [['queues', 'limit', 'order', '--concurrency', '0'], 2, /concurrency/],
      [['queues', 'limit', 'order', '--concurrency', '-3'], 2, /concurrency/],
      [['queues', 'limit', 'order', '--rate', '0/1000'], 2, /rateLimit\.max/],
      [['queues', 'limit', 'order', '--rate', 'lots'], 2, /<max>\/<ms>/],
      [['queues', 'pause', 'ordr'], 3, /did you mean "order"/],
      [['enqueue', 'order.generateInvoice', '{"orderId":"nope"}'], 2, /orderId/],
      [['enqueue', 'order.generateInvoce', '{}'], 2, /did you mean "order.generateInvoice"/],
      [['enqueue', 'order.generateInvoice', '{not json'], 2, /not JSON/],
      [['cancel', 'order.x'], 3, /job order\.x not found/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await cli(...argv);
      expect(r.code, argv.join(' ')).toBe(code);
      expect(r.err + r.out, argv.join(' ')).toMatch(message);
    }
    // Nothing changed; a cancel is audited even when it finds nothing (who looked for what).
    expect((await readAudit(hub.redis, hub.prefix)).map((e) => [e.action, e.target, e.outcome])).toEqual([['job.cancel', 'order.x', 'not_found']]);
    expect(await hub.rawQueue('order').getGlobalConcurrency()).toBeNull();
  });

  it('fails fast (exit 1) when Redis does not answer', async () => {
    let err = '';
    const code = await runCli(['stats'], { out: () => {}, err: (t) => void (err += t), env: { REDIS_URL: 'redis://127.0.0.1:1', HUB_PREFIX: hub.prefix } });
    expect(code).toBe(1);
    expect(err).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:1/);
  });
});

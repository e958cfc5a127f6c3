/**
 * `npm start` as a newcomer runs it, driven from inside a fresh network namespace (see
 * test/start.test.ts), so nothing answers at the default redis://127.0.0.1:6379 there and the
 * default URL itself is what is tested. Runs in a copy of the repo (its own .hub-data), reports
 * what it saw as one JSON line on stdout. Usage: tsx start-scenario.ts <copy-of-repo>
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { probeRedis } from '../../src/launcher/local-redis.ts';
import { createProducer } from '../../src/producer/index.ts';
import { Lines } from './lines.ts';
import { StubService } from './stub-service.ts';

const cwd = process.argv[2]!;
const report: Record<string, unknown> = {};
const output = new Lines();
const lines = output.all;

/** Pids of every process below `pid`, from /proc (ppid links). */
const descendants = (pid: number): number[] => {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* gone meanwhile */
    }
  }
  const all: number[] = [];
  const visit = (p: number) => (children.get(p) ?? []).forEach((c) => (all.push(c), visit(c)));
  visit(pid);
  return all;
};
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};
const commandOf = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '?';
  }
};

const order = await StubService.start();
const invoiceId = `inv-${randomUUID()}`;
order.reply('POST', '/api/orders/:id/invoice', { status: 200, body: { invoiceId } });
order.reply('POST', '/api/orders/cancel-unpaid', { status: 200, body: { cancelled: 0 } });
const others = await Promise.all([StubService.start(), StubService.start(), StubService.start()]);

report.redisBefore = await probeRedis('redis://127.0.0.1:6379');
const { REDIS_URL: _unset, ...env } = process.env;
const hub = spawn('npm', ['start'], {
  cwd,
  detached: true, // its own process group, like a terminal's foreground job: Ctrl-C signals the group
  stdio: ['ignore', 'pipe', 'pipe'],
  env: {
    ...env,
    NODE_ENV: 'development',
    LOG_LEVEL: 'info',
    WORKER_GRACE_MS: '5000',
    ORDER_SERVICE_URL: order.url,
    AUTH_SERVICE_URL: others[0]!.url,
    CART_SERVICE_URL: others[1]!.url,
    PRODUCT_SERVICE_URL: others[2]!.url,
    npm_config_update_notifier: 'false',
  },
});
for (const stream of [hub.stdout!, hub.stderr!]) createInterface({ input: stream }).on('line', (l) => output.add(l));
const exited = new Promise<number | null>((resolve) => hub.once('exit', (code) => resolve(code)));

try {
  await output.waitFor(/^hub: running/, 180_000);
  report.privateRedisLine = lines.find((l) => /started a private redis-server/.test(l));
  report.dataDirCreated = existsSync(`${cwd}/.hub-data/redis/appendonlydir`);

  const redis = new Redis('redis://127.0.0.1:6379');
  report.redisConfig = {
    appendonly: (await redis.config('GET', 'appendonly'))[1],
    maxmemoryPolicy: (await redis.config('GET', 'maxmemory-policy'))[1],
  };
  redis.disconnect();

  const producer = createProducer({ redisUrl: 'redis://127.0.0.1:6379', service: 'start-test' });
  const orderId = randomUUID();
  const job = await producer.enqueue('order.generateInvoice', { orderId }, { requestId: 'start-test-1' });
  report.jobResult = await producer.waitFor(job, { timeoutMs: 20_000 });
  report.jobCall = order.calls('POST', `/api/orders/${orderId}/invoice`).map((c) => c.headers['x-request-id']);
  // The shipped schedule's every-10-minutes entry fires at once: jobs flow from schedule.ts too.
  report.scheduledCall = await Promise.race([
    order.waitFor('POST', '/api/orders/cancel-unpaid').then(() => true),
    new Promise((r) => setTimeout(() => r(false), 15_000)),
  ]);
  await producer.close();

  const dashboardLine = lines.find((l) => /dashboard on http/.test(l));
  if (dashboardLine) {
    const res = await fetch('http://127.0.0.1:5555/healthz');
    report.dashboardHealth = res.status;
  }
  report.dashboardLine = dashboardLine;

  const tree = descendants(hub.pid!);
  report.tree = tree.map(commandOf);
  const started = Date.now();
  process.kill(-hub.pid!, 'SIGINT'); // what Ctrl-C in a terminal does
  report.exitCode = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 40_000))]);
  report.stopMs = Date.now() - started;
  const deadline = Date.now() + 5_000;
  while (tree.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  report.leftBehind = tree.filter(alive).map(commandOf);
  report.redisAfter = await probeRedis('redis://127.0.0.1:6379');
} catch (err) {
  report.error = (err as Error).message;
  for (const pid of [hub.pid!, ...descendants(hub.pid!)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
} finally {
  // npm start runs the compiled build, as the image does, compiling first on a fresh checkout.
  report.compiledFirst = lines.some((l) => /^run-built: compiling to dist\/ \(first run/.test(l));
  report.ranCompiled = lines.some((l) => l === 'run-built: dist/src/launcher/start.js');
  report.output = lines.filter((l) => !l.startsWith('{')).slice(-40);
  report.errors = lines.filter((l) => /"level":"(error|fatal)"/.test(l)).slice(-10);
  await Promise.all([order, ...others].map((s) => s.close()));
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

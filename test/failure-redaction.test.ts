import { randomUUID } from 'node:crypto';
import { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { catalog, domain, task } from '../src/contracts/index.ts';
import { PermanentError } from '../src/core/errors.ts';
import { buildRegistry } from '../src/worker/registry.ts';
import { handle } from '../tasks/context.ts';
import { handlers } from '../tasks/index.ts';
import { useTestHub } from './helpers/test-hub.ts';

const hub = useTestHub();

const once = { attempts: 1, backoff: { type: 'fixed' as const, delay: 10 } };
const schema = z.strictObject({ id: z.string(), secret: z.string() });
const leaky = domain('order', {
  throwsSecret: task({ description: 'test only', schema, sensitive: ['secret'], retry: once, timeoutMs: 5_000 }),
  callsWithSecret: task({ description: 'test only', schema, sensitive: ['secret'], retry: once, timeoutMs: 5_000 }),
  returnsSecret: task({ description: 'test only', schema, sensitive: ['secret'], retry: once, timeoutMs: 5_000 }),
});
const registry = () =>
  buildRegistry(
    [
      ...handlers,
      handle(leaky.throwsSecret, async ({ id, secret }) => {
        throw new PermanentError(`token ${secret} refused for ${id}`);
      }),
      // The service client's error names the path, and this path carries the secret (URL-encoded).
      handle(leaky.callsWithSecret, async ({ secret }, { http, signal }) => http.order.get(`api/tokens/${encodeURIComponent(secret)}`, { signal }).json()),
      handle(leaky.returnsSecret, async ({ id, secret }) => ({ id, echoed: secret, nested: [{ [secret]: `https://x.example/t/${encodeURIComponent(secret)}` }] })),
    ],
    { ...catalog, ...Object.fromEntries(Object.values(leaky).map((c) => [c.name, c])) },
  );

const SECRET = 'tok/3n+with "quotes" & spaces';
const forms = [SECRET, encodeURIComponent(SECRET), JSON.stringify(SECRET).slice(1, -1)];
/** A stack frame naming an absolute path: `(/x/y.ts:1:2)`, `at /x/y.ts:1:2`, `file:///x/y.ts:1:2`. */
const ABSOLUTE_FRAME = /(?:\(|at |file:\/\/)\/[^\s)]*:\d+:\d+/;

const stored = async (id: string) => {
  const job = await Job.fromId(hub.rawQueue('order'), id);
  return { failedReason: job!.failedReason, stacktrace: job!.stacktrace ?? [], returnvalue: job!.returnvalue as unknown };
};

describe("a sensitive payload field's value", () => {
  it.each([
    ['thrown in an error message', 'throwsSecret', /token \[redacted\] refused for 7/],
    ['in a failed call\'s path', 'callsWithSecret', /order service GET \/api\/tokens\/\[redacted\] answered 404/],
  ])('%s reaches neither the stored failure, its stack, nor the log', async (_what, name, reason) => {
    await hub.startWorker(registry());
    hub.services.order.reply('GET', '/api/tokens/:t', 404);
    const added = await hub.rawQueue('order').add(`order.${name}`, { id: '7', secret: SECRET });
    await expect(hub.finished(`${added.id}`)).rejects.toThrow(reason);

    const job = await stored(`${added.id}`);
    expect(job.failedReason).toMatch(reason);
    expect(job.stacktrace.length).toBeGreaterThan(0);
    const text = JSON.stringify(job) + hub.logs.join('\n');
    for (const form of forms) expect(text).not.toContain(form);
    // Stacks keep their frames, relative to the hub's root.
    const stack = job.stacktrace.join('\n');
    expect(stack).not.toMatch(ABSOLUTE_FRAME);
    expect(stack).toMatch(/src\/worker\/|test\/failure-redaction\.test\.ts|node_modules\//);
  });

  it('returned by the handler is stored redacted, wherever it sits', async () => {
    await hub.startWorker(registry());
    const added = await hub.rawQueue('order').add('order.returnsSecret', { id: '8', secret: SECRET });
    await expect(hub.finished(`${added.id}`)).resolves.toEqual({
      id: '8',
      echoed: '[redacted]',
      nested: [{ '[redacted]': 'https://x.example/t/[redacted]' }],
    });
    const text = JSON.stringify(await stored(`${added.id}`));
    for (const form of forms) expect(text).not.toContain(form);
  });
});

describe('stack traces stored on jobs', () => {
  it('name no absolute path of the install, for any failure', async () => {
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await expect(hub.finished(job)).rejects.toThrow(/404/);
    const { stacktrace } = await stored(job.id);
    expect(stacktrace.join('\n')).toMatch(/\(src\/worker\/dispatch\.ts:\d+:\d+\)[\s\S]*node_modules\/bullmq\//);
    expect(stacktrace.join('\n')).not.toMatch(ABSOLUTE_FRAME);
  });
});

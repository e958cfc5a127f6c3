import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { queues } from '../queues.config.ts';
import { payloadOf } from '../src/core/job-meta.ts';
import { queuePrefix } from '../src/core/keys.ts';
import { InvalidPayloadError, PayloadTooLargeError, UnknownTaskError } from '../src/producer/index.ts';
import { tokenOf, useDashboard } from './dashboard/dashboard-harness.ts';
import { useTestHub } from './helpers/test-hub.ts';

/**
 * Bad input at every edge the hub has: the producer lib, the HTTP API, the dashboard's add-job
 * form and plain BullMQ clients. Each answers with an error naming the problem and adds no job,
 * or (a raw job, already in Redis) fails once without spending its retries.
 * What producer.test.ts, worker.test.ts and test/dashboard already check is not repeated here.
 */
const TEN_MB = { productIds: Array.from({ length: 290_000 }, () => randomUUID()) };
const protoPayload = () => JSON.parse(`{"productIds":["${randomUUID()}"],"__proto__":{"polluted":true}}`) as object;

describe('producer lib', () => {
  const hub = useTestHub({ worker: false });

  it.each([
    ['a string', 'order.generateInvoice'],
    ['an array', [{ orderId: randomUUID() }]],
    ['null', null],
    ['a number', 42],
  ])('refuses a payload that is %s, not an object', async (_, payload) => {
    const err = await hub.producer.enqueue('order.generateInvoice', payload as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect((err as Error).message).toMatch(/invalid payload for order\.generateInvoice:[\s\S]*expected object/);
    expect(await hub.keys()).toEqual([]);
  });

  it('refuses a payload JSON cannot carry (BigInt, a cycle) with InvalidPayloadError, not a TypeError', async () => {
    const cyclic: Record<string, unknown> = { orderId: randomUUID() };
    cyclic.self = cyclic;
    for (const payload of [{ orderId: 1n }, cyclic]) {
      const err = await hub.producer.enqueue('order.generateInvoice', payload as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvalidPayloadError);
      expect((err as Error).message).toMatch(/^invalid payload for order\.generateInvoice:\nthe payload is not JSON: /);
    }
    expect(await hub.keys()).toEqual([]);
  });

  it('refuses task names that are not strings, or are object keys', async () => {
    for (const name of [42, null, {}, '__proto__', 'constructor', 'toString', 'order:generateInvoice', '']) {
      await expect(hub.producer.enqueue(name as never, {} as never), String(name)).rejects.toBeInstanceOf(UnknownTaskError);
    }
    expect(await hub.keys()).toEqual([]);
  });

  it('refuses nested prototype keys, and does not pollute Object.prototype', async () => {
    await expect(hub.producer.enqueue('product.reindex', protoPayload() as never)).rejects.toThrow(/Unrecognized key: "__proto__"/);
    const nested = JSON.parse(`{"productIds":[{"__proto__":{"polluted":true}}]}`) as object;
    await expect(hub.producer.enqueue('product.reindex', nested as never)).rejects.toBeInstanceOf(InvalidPayloadError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await hub.keys()).toEqual([]);
  });

  it('bounds an invalid payload\'s error: at most 20 fields, their count, and a short message', async () => {
    const payload = Object.fromEntries(Array.from({ length: 38_000 }, (_, i) => [`k${i}`, 1]));
    const err = (await hub.producer.enqueue('order.generateInvoice', payload as never).catch((e: unknown) => e)) as InvalidPayloadError;
    expect(err).toBeInstanceOf(InvalidPayloadError);
    expect(err.fields).toHaveLength(20);
    expect(err.fieldCount).toBe(38_001);
    expect(err.message.length).toBeLessThan(2_048);
    expect(err.message).toMatch(/Unrecognized keys: "k0", "k1"/);
    expect(err.message).toMatch(/and 37981 more/);
    const longKey = (await hub.producer.enqueue('order.generateInvoice', { [`${'z'.repeat(100_000)}`]: 1 } as never).catch((e: unknown) => e)) as Error;
    expect(longKey.message.length).toBeLessThan(2_048);
    expect(await hub.keys()).toEqual([]);
  });

  it('enqueueMany refuses the whole batch when one item is 10 MB', async () => {
    const err = await hub.producer
      .enqueueMany([
        { task: 'product.reindex', payload: {} },
        { task: 'product.reindex', payload: TEN_MB },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PayloadTooLargeError);
    expect(await hub.keys()).toEqual([]);
  });
});

describe('plain BullMQ jobs (other languages, scripts)', () => {
  const hub = useTestHub();

  it.each([
    ['a missing field', 'order.sendConfirmation', { orderId: randomUUID() }, /at email/],
    ['an extra field', 'order.generateInvoice', { orderId: randomUUID(), coupon: 'X' }, /Unrecognized key: "coupon"/],
    ['a __proto__ key', 'product.reindex', protoPayload(), /Unrecognized key: "__proto__"/],
    ['a constructor key', 'product.reindex', { constructor: { prototype: {} } }, /Unrecognized key: "constructor"/],
    ['data that is a string', 'order.generateInvoice', 'order-1', /expected object, received string/],
    ['data that is an array', 'order.generateInvoice', [1, 2], /expected object, received array/],
    ['a 10 MB payload', 'product.reindex', TEN_MB, /Too big: expected array to have <=1000 items/],
    ['a name with ":"', 'order:generateInvoice', { orderId: randomUUID() }, /unknown task "order:generateInvoice"/],
    ['the name __proto__', '__proto__', {}, /unknown task "__proto__"/],
  ])('%s fails once, unrecoverably, naming the problem, though attempts remain', async (_, name, data, reason) => {
    const queue = name.startsWith('product') ? 'product' : 'order';
    const job = await hub.rawQueue(queue).add(name, data, { attempts: 5 });
    await expect(hub.finished({ id: `${job.id}`, queue })).rejects.toThrow(reason);
    expect(await hub.rawQueue(queue).getJob(`${job.id}`).then((j) => j?.attemptsMade)).toBe(1);
    expect(Object.values(hub.services).every((s) => s.requests.length === 0)).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

/** Jobs in any state, any queue (the dashboard's queues write their own meta keys, so keys alone say little). */
const jobsIn = async (hub: ReturnType<typeof useTestHub>) => {
  let n = 0;
  for (const q of Object.keys(queues)) n += await hub.rawQueue(q).getJobCountByTypes('wait', 'delayed', 'prioritized', 'active', 'completed', 'failed');
  return n;
};

describe('HTTP API: POST /api/v1/tasks/{name}', () => {
  const hub = useTestHub({ worker: false });
  const dash = useDashboard(() => hub.prefix);
  const ops = { bearer: tokenOf('ops') };
  const post = (name: string, body: string, contentType = 'application/json') =>
    dash.request('POST', `/api/v1/tasks/${name}`, { as: ops, body, headers: { 'content-type': contentType } });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; fields?: { path: string; message: string }[] } }).error;

  it.each([
    ['a missing field', 'order.sendConfirmation', { orderId: randomUUID() }, 'email'],
    ['a wrong type', 'order.generateInvoice', { orderId: 42 }, 'orderId'],
    ['an array instead of an object', 'order.generateInvoice', [{ orderId: randomUUID() }], '(payload)'],
  ])('answers 400 for %s, naming the field, and adds no job', async (_, name, payload, field) => {
    const res = await post(name, JSON.stringify(payload));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe('invalid_payload');
    expect(error.fields!.map((f) => f.path)).toContain(field);
    expect(await jobsIn(hub)).toBe(0);
  });

  it.each([
    ['"order-1"', 'string'],
    ['null', 'null'],
    ['42', 'number'],
    ['true', 'boolean'],
  ])('answers the JSON body %s (valid JSON, not an object) with invalid_payload and its reason, and adds no job', async (body, type) => {
    // cart.purgeExpiredCarts: every field has a default, so a null body must not pass as {}.
    for (const task of ['order.generateInvoice', 'cart.purgeExpiredCarts']) {
      const res = await post(task, body);
      expect(res.status, task).toBe(400);
      const error = await errorOf(res);
      expect(error.code).toBe('invalid_payload');
      expect(error.fields).toEqual([{ path: '(payload)', message: `Invalid input: expected object, received ${type}` }]);
      expect(error.message).toContain(`expected object, received ${type}`);
    }
    expect(await jobsIn(hub)).toBe(0);
  });

  it('answers 413 for a 10 MB body under the default limit, before parsing it', async () => {
    const res = await post('product.reindex', JSON.stringify(TEN_MB));
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toMatch(/over 524288 bytes/);
    expect(await jobsIn(hub)).toBe(0);
  });

  it.each([
    ['text/plain', '{"orderId":"x"}', 415],
    ['application/json', 'orderId=1', 400],
    ['application/json', '{"orderId":', 400],
    ['application/json; charset=latin1', '{}', 415],
  ])('answers %s "%s" with %i and adds no job', async (contentType, body, status) => {
    const res = await post('order.generateInvoice', body, contentType);
    expect(res.status).toBe(status);
    expect(await jobsIn(hub)).toBe(0);
  });

  it.each([
    ['application/json', 'product.reindex', { productIds: [randomUUID(), randomUUID()] }],
    ['application/json; charset=utf-8', 'order.cancelUnpaidOrders', { olderThanMinutes: 10_080 }],
    ['application/vnd.api+json', 'product.reindex', { productIds: [randomUUID()] }],
    ['application/vnd.api+json', 'order.cancelUnpaidOrders', { olderThanMinutes: 10_080 }],
    ['application/merge-patch+json; charset=utf-8', 'order.cancelUnpaidOrders', { olderThanMinutes: 10_080 }],
  ])('reads a %s body: %s is enqueued with the payload sent, not the defaults', async (contentType, task, payload) => {
    const res = await post(task, JSON.stringify(payload), contentType);
    expect(res.status).toBe(202);
    const { id, queue } = (await res.json()) as { id: string; queue: string };
    const stored = (await hub.rawQueue(queue).getJob(id))!.data as Record<string, unknown>;
    expect(payloadOf(stored)).toEqual(payload);
  });

  it('answers 38,000 unknown keys with at most 20 fields and their count, in a small response', async () => {
    const body = `{${Array.from({ length: 38_000 }, (_, i) => `"k${i}":1`).join(',')}}`;
    const res = await post('order.generateInvoice', body);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(4_096);
    const { error } = JSON.parse(text) as { error: { code: string; message: string; fields: { path: string }[]; fieldCount: number } };
    expect(error.code).toBe('invalid_payload');
    expect(error.fields).toHaveLength(20);
    expect(error.fields.slice(0, 3).map((f) => f.path)).toEqual(['orderId', 'k0', 'k1']);
    expect(error.fieldCount).toBe(38_001); // the unknown keys and the missing orderId
    expect(error.message).toMatch(/and 37981 more/);
    expect(await jobsIn(hub)).toBe(0);
  });

  it('bounds a field path made of a huge key', async () => {
    const res = await post('product.reindex', `{"${'x'.repeat(100_000)}":{"__proto__":{}}}`);
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text.length).toBeLessThan(4_096);
    expect(JSON.parse(text).error.fields[0].path).toMatch(/^x{100}….__proto__$/);
    const huge = await post('order.generateInvoice', `{"${'y'.repeat(100_000)}":1}`);
    expect(huge.status).toBe(400);
    expect((await huge.text()).length).toBeLessThan(4_096);
  });

  it.each(['order:generateInvoice', '__proto__', 'constructor', 'hasOwnProperty', '%00', 'order.generateInvoice.x'])(
    'answers 404 for the task name %s, never 500',
    async (name) => {
      const res = await post(encodeURIComponent(name), JSON.stringify({ orderId: randomUUID() }));
      expect(res.status).toBe(404);
      expect(await jobsIn(hub)).toBe(0);
    },
  );

  it('refuses a constructor key in a top-level position and leaves Object.prototype alone', async () => {
    const res = await post('product.reindex', '{"constructor":{"prototype":{"polluted":true}}}');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe('field "constructor" is not allowed');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await jobsIn(hub)).toBe(0);
  });
});

describe('dashboard add-job form', () => {
  const hub = useTestHub({ worker: false });
  const dash = useDashboard(() => hub.prefix);
  const add = (queue: string, body: unknown, raw?: string) =>
    dash.request('POST', `/api/queues/${queue}/add`, raw === undefined ? { as: 'admin', json: body } : { as: 'admin', body: raw, headers: { 'content-type': 'application/json' } });

  it.each([
    ['an unknown task', { name: 'order.generateInvoce', data: { orderId: randomUUID() } }, /order\.generateInvoce/],
    ['a name with ":"', { name: 'order:generateInvoice', data: { orderId: randomUUID() } }, /order:generateInvoice/],
    ['a missing field', { name: 'order.sendConfirmation', data: { orderId: randomUUID() } }, /email/],
    ['an extra field', { name: 'order.generateInvoice', data: { orderId: randomUUID(), coupon: 'X' } }, /coupon/],
    ['a __proto__ key', { name: 'order.generateInvoice', data: JSON.parse(`{"orderId":"${randomUUID()}","__proto__":{"polluted":true}}`) }, /__proto__/],
    ['data that is a string', { name: 'order.generateInvoice', data: 'order-1' }, /expected object/],
    ['no name at all', { data: {} }, /must be a task of queue/],
  ])('refuses %s with 400 and adds no job', async (_, body, message) => {
    const res = await add('order', body);
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(message);
    expect(await hub.rawQueue('order').count()).toBe(0);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a 10 MB job and a body that is not JSON, adding nothing', async () => {
    const big = await add('product', { name: 'product.reindex', data: TEN_MB });
    expect(big.status).toBeGreaterThanOrEqual(400);
    expect(big.status).toBeLessThan(500);
    const broken = await add('order', undefined, '{"name":');
    expect(broken.status).toBe(400);
    expect(await jobsIn(hub)).toBe(0);
  });
});

describe('a raw job whose stored data is not JSON (a foreign client, a hand edit)', () => {
  const hub = useTestHub({ worker: false });

  it('fails once, saying so, instead of sitting in active and stalling forever', async () => {
    const queue = hub.rawQueue('order');
    const job = await queue.add('order.generateInvoice', { orderId: randomUUID() }, { attempts: 5 });
    await hub.redis.hset(`${queuePrefix(hub.prefix, 'order')}:order:${job.id}`, 'data', 'not json{');
    await hub.startWorker();
    // Read the hash: BullMQ's own Job.fromId cannot parse this job either.
    const key = `${queuePrefix(hub.prefix, 'order')}:order:${job.id}`;
    await expect.poll(() => queue.getJobState(`${job.id}`), { timeout: 10_000 }).toBe('failed');
    expect(await hub.redis.hget(key, 'failedReason')).toMatch(/^invalid payload for order\.generateInvoice:\nthe job's data is not JSON \(/);
    expect(await hub.redis.hget(key, 'atm')).toBe('1');
    expect(hub.services.order.requests).toHaveLength(0);
  });
});

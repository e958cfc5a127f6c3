import { describe, expect, it } from 'vitest';
import { JobMeta, META_KEY, metaOf } from './job-meta.ts';

const event = { name: 'order.created', id: 'evt-1', hash: 'h'.repeat(32) };

describe('metaOf: the hand-written check agrees with JobMeta', () => {
  const samples: unknown[] = [
    { service: 'checkout', event },
    { service: 'checkout', event: { ...event, id: 'x'.repeat(200) } },
    { event: { ...event, id: 'x'.repeat(201) } },
    { event: { ...event, extra: 1 } },
    { event: { name: 'order.created', id: 'evt-1' } },
    { event: { ...event, id: 42 } },
    { event: 'order.created' },
    { event: null },
    { schedule: 's', noOverlap: true },
    { noOverlap: 'yes' },
  ];
  it.each(samples.map((s) => [JSON.stringify(s).slice(0, 80), s]))('%s', (_, meta) => {
    const zod = JobMeta.safeParse(meta).success;
    expect(metaOf({ [META_KEY]: meta, orderId: 'o' }) === meta).toBe(zod);
  });

  it('reads the event a job came from', () => {
    expect(metaOf({ [META_KEY]: { service: 's', event } }).event).toEqual(event);
  });
});

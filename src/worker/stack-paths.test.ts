import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { relativeStack } from './stack-paths.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('relativeStack', () => {
  it('names files relative to the hub, node_modules from there, and leaves the message and node: frames alone', () => {
    const stack = [
      'Error: order service GET /api/orders/1 answered 503',
      `    at classify (${root}src/service-clients/classify.ts:14:7)`,
      `    at ${root}src/worker/attempt.ts:67:20`,
      `    at async file://${root}tasks/order.ts:9:5`,
      '    at async /srv/elsewhere/node_modules/bullmq/dist/cjs/classes/worker.js:595:32',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at new Promise (<anonymous>)',
      '    at load (/opt/other/place/loader.mjs:1:2)',
    ].join('\n');
    expect(relativeStack(stack).split('\n')).toEqual([
      'Error: order service GET /api/orders/1 answered 503',
      '    at classify (src/service-clients/classify.ts:14:7)',
      '    at src/worker/attempt.ts:67:20',
      '    at async tasks/order.ts:9:5',
      '    at async node_modules/bullmq/dist/cjs/classes/worker.js:595:32',
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '    at new Promise (<anonymous>)',
      '    at load (loader.mjs:1:2)',
    ]);
  });
});

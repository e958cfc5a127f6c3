import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { services } from '../services.config.ts';
import { describe, expect, it } from 'vitest';
import { catalog } from '../src/contracts/index.ts';

/** INTEGRATION.md is what service teams build their endpoints from: it must not drift from tasks/. */
const root = new URL('..', import.meta.url).pathname;
const doc = readFileSync(join(root, 'INTEGRATION.md'), 'utf8');

/** `http.order.post(`api/orders/${orderId}/invoice`` in tasks/*.ts -> `POST /api/orders/{orderId}/invoice`. */
const callsInTasks = () =>
  readdirSync(join(root, 'tasks'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .flatMap((f) => [...readFileSync(join(root, 'tasks', f), 'utf8').matchAll(/http\.(\w+)\.(get|post|put|patch|delete)\(\s*[`'"]([^`'"]+)[`'"]/g)])
    .map(([, service, method, path]) => ({ service: service!, call: `${method!.toUpperCase()} /${path!.replace(/\$\{(\w+)\}/g, '{$1}')}` }));

describe('INTEGRATION.md', () => {
  it('documents every task of the catalog', () => {
    const missing = Object.keys(catalog).filter((name) => !doc.includes(`\`${name}\``));
    expect(missing, 'add these tasks to "Endpoints each task calls"').toEqual([]);
  });

  it('lists every endpoint the tasks call, with its method', () => {
    const calls = callsInTasks();
    expect(calls.length).toBeGreaterThanOrEqual(15);
    const missing = calls.filter((c) => !doc.includes(c.call)).map((c) => `${c.service}: ${c.call}`);
    expect(missing, 'add these calls to "Endpoints each task calls"').toEqual([]);
  });

  it('names each service base URL variable', () => {
    for (const s of Object.values(services)) expect(doc).toContain(`(\`${s.urlEnv}\`)`);
  });
});

import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBeat } from '../../src/beat/run-beat.ts';
import { readAudit } from '../../src/control/audit.ts';
import type { ScheduleEntry } from '../../src/contracts/schedule.ts';
import { beatEnv, captureLog } from '../beat/helpers.ts';
import { useTestHub } from '../helpers/test-hub.ts';
import { ACCOUNTS, useDashboard } from './dashboard-harness.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT_DIR = new URL('../../test-results/', import.meta.url);
const schedule: ScheduleEntry[] = [{ id: 'product-reindex', task: 'product.reindex', cron: '0 3 * * *', tz: 'Europe/Berlin' }];

const hub = useTestHub();
const dash = useDashboard(() => hub.prefix, { schedule });
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
});
afterAll(async () => browser?.close());

/** A logged-in page that records every CSP violation and anything leaving the hub. */
const open = async (role: 'admin' | 'viewer'): Promise<{ context: BrowserContext; page: Page; violations: string[] }> => {
  const account = ACCOUNTS.find((a) => a.role === role)!;
  const context = await browser.newContext({ httpCredentials: { username: account.user, password: account.password }, viewport: { width: 1400, height: 1000 } });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const violations: string[] = [];
  page.on('console', (m) => /content security policy|csp violation|refused to/i.test(m.text()) && violations.push(m.text()));
  page.on('pageerror', (e) => violations.push(`page error: ${e.message}`));
  await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`))" });
  return { context, page, violations };
};

const status = (page: Page) => page.locator('#status');

describe('the board\'s control page in a real browser', () => {
  it('the admin pauses and resumes a schedule, triggers it (a double click runs once), limits a queue, dry-runs and runs a replay; all audited', async () => {
    await runBeat(beatEnv(hub.prefix), captureLog().log, { schedule, once: true, print: () => {} });
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const failed = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() });
    await expect(hub.finished(failed)).rejects.toThrow(/404/);
    hub.services.product.reply('POST', '/api/products/reindex', { status: 200, body: { indexed: 1 } });

    const { context, page, violations } = await open('admin');
    // Linked from Bull Board.
    await page.goto(`${dash.url}/`);
    // Bull Board lists its miscLinks in the header's last menu.
    await page.locator('ul[class*="actions-"] > li').last().locator('button').click();
    await page.getByText('Control', { exact: true }).click();
    await page.waitForURL(`${dash.url}/hub/control`);
    const policy = (await page.request.get(`${dash.url}/hub/control`)).headers()['content-security-policy'];
    expect(policy).toMatch(/script-src 'self';/);
    expect(policy).not.toMatch(/unsafe/);

    const row = page.locator('tr[data-schedule="product-reindex"]');
    await row.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => status(page).textContent()).toBe('paused product-reindex');
    await page.waitForLoadState('load');
    await row.getByText('paused', { exact: true }).waitFor();
    expect(await hub.rawQueue('product').getJobScheduler('product-reindex')).toBeUndefined();

    await row.getByRole('button', { name: 'Resume' }).click();
    await row.getByRole('button', { name: 'Pause' }).waitFor();
    expect(await hub.rawQueue('product').getJobScheduler('product-reindex')).toBeTruthy();

    const trigger = row.getByRole('button', { name: 'Trigger now' });
    const requestId = (await trigger.getAttribute('data-request-id'))!;
    // A double click: the button is disabled while its request runs, and a second request with the
    // same request id (one that slipped through) adds no job.
    await trigger.dblclick();
    await status(page).filter({ hasText: /triggered product-reindex: job product\.t-product-reindex-/ }).waitFor();
    const second = await page.evaluate(async (id) => {
      const res = await fetch('/hub/api/schedules/product-reindex/trigger', { method: 'POST', headers: { 'x-request-id': id } });
      return ((await res.json()) as { duplicate: boolean }).duplicate;
    }, requestId);
    expect(second).toBe(true);
    await page.waitForLoadState('load');
    const triggered = (await hub.rawQueue('product').getJobs(['wait', 'active', 'completed'])).filter((j) => j.id?.startsWith('product.t-'));
    expect(triggered).toHaveLength(1);

    const limits = page.locator('form.limits[data-queue="cart"]');
    await limits.locator('input[name=concurrency]').fill('3');
    await limits.locator('input[name=max]').fill('10');
    await limits.locator('input[name=durationMs]').fill('1000');
    await limits.getByRole('button', { name: 'Set limits' }).click();
    await status(page).filter({ hasText: 'limits set on cart' }).waitFor();
    expect(await hub.rawQueue('cart').getGlobalConcurrency()).toBe(3);
    await page.waitForLoadState('load');
    await page.locator('tr[data-queue="cart"]').getByText('global 3').waitFor();

    // A limit of 0 is refused, with the field named, and nothing changes.
    await page.locator('form.limits[data-queue="order"] input[name=concurrency]').fill('0');
    await page.locator('form.limits[data-queue="order"]').getByRole('button', { name: 'Set limits' }).click();
    await status(page).filter({ hasText: /concurrency/ }).waitFor();
    expect(await status(page).getAttribute('class')).toBe('error');
    expect(await hub.rawQueue('order').getGlobalConcurrency()).toBeNull();

    const replay = page.locator('form#replay');
    await replay.locator('select[name=task]').selectOption('order.generateInvoice');
    await replay.locator('select[name=class]').selectOption('permanent');
    await replay.getByRole('button', { name: 'Dry run' }).click();
    await page.locator('#replay-result').filter({ hasText: `1 failed job(s) match.` }).waitFor();
    await page.locator('#replay-result').filter({ hasText: failed.id }).waitFor();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', { status: 201, body: { invoiceId: 'INV' } });
    await replay.getByRole('button', { name: 'Replay', exact: true }).click();
    await status(page).filter({ hasText: 'replayed 1 of 1 job(s)' }).waitFor();
    await expect(hub.finished(failed)).resolves.toEqual({ invoiceId: 'INV' });

    // Cancel: a waiting (delayed) job is removed; a finished one is refused with its state.
    const waiting = await hub.producer.enqueue('order.generateInvoice', { orderId: randomUUID() }, { delayMs: 60_000 });
    await page.waitForLoadState('load');
    await page.locator('form#cancel input[name=id]').fill(waiting.id);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await status(page).filter({ hasText: `cancelled ${waiting.id}` }).waitFor();
    expect(await hub.producer.getJob(waiting.id)).toBeUndefined();
    await page.locator('form#cancel input[name=id]').fill(failed.id);
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await status(page).filter({ hasText: /has completed: there is nothing to cancel/ }).waitFor();

    // Cancel a workflow: it fails as cancelled, its waiting step is removed, the next never comes.
    await hub.stopWorker();
    const chain = await hub.producer.chain([
      { task: 'order.generateInvoice', payload: { orderId: randomUUID() } },
      { task: 'order.sendConfirmation', payload: { orderId: randomUUID(), email: 'a@example.com' } },
    ]);
    const workflowForm = page.locator('form#cancel-workflow');
    await workflowForm.locator('input[name=id]').fill(chain.workflowId);
    await workflowForm.locator('input[name=reason]').fill('wrong batch');
    await page.getByRole('button', { name: 'Cancel workflow' }).click();
    await status(page).filter({ hasText: `cancelled workflow ${chain.workflowId}: ${chain.jobs[0]!.id} removed` }).waitFor();
    await expect(hub.producer.waitFor(chain)).rejects.toThrow('cancelled: wrong batch');
    expect(await hub.producer.getJob(chain.jobs[0]!.id)).toBeUndefined();
    await workflowForm.locator('input[name=id]').fill('no-such-workflow');
    await page.getByRole('button', { name: 'Cancel workflow' }).click();
    await status(page).filter({ hasText: 'workflow no-such-workflow not found' }).waitFor();

    await page.reload();
    const audit = page.locator('#audit tbody tr');
    await audit.first().waitFor();
    expect(await audit.count()).toBe(10);
    expect(await page.locator('#audit').textContent()).toMatch(/board:admin.*replay/);
    const entries = (await readAudit(hub.redis, hub.prefix)).map((e) => `${e.who} ${e.action} ${e.target}`);
    expect(entries).toEqual([
      `board:admin workflow.cancel ${chain.workflowId}`,
      `board:admin job.cancel ${chain.jobs[0]!.id}`,
      `board:admin job.cancel ${failed.id}`,
      `board:admin job.cancel ${waiting.id}`,
      'board:admin replay order.generateInvoice',
      'board:admin queue.limits cart',
      'board:admin schedule.trigger product-reindex',
      'board:admin schedule.trigger product-reindex',
      'board:admin schedule.resume product-reindex',
      'board:admin schedule.pause product-reindex',
    ]);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: new URL('control-page.png', SCREENSHOT_DIR).pathname, fullPage: true });
    expect(violations).toEqual([]);
    await context.close();
  });

  it('the read-only account sees the state with the actions disabled, and the server refuses them anyway', async () => {
    await runBeat(beatEnv(hub.prefix), captureLog().log, { schedule, once: true, print: () => {} });
    const { context, page, violations } = await open('viewer');
    await page.goto(`${dash.url}/hub/control`);
    await page.getByText('read-only: actions are refused').waitFor();
    const pause = page.locator('tr[data-schedule="product-reindex"]').getByRole('button', { name: 'Pause' });
    expect(await pause.isDisabled()).toBe(true);
    // What a hand-made request from the page gets.
    const answer = await page.evaluate(async () => {
      const res = await fetch('/hub/api/schedules/product-reindex/pause', { method: 'POST' });
      return { status: res.status, body: (await res.json()) as { error: { code: string } } };
    });
    expect(answer).toEqual({ status: 403, body: { error: { code: 'read_only', message: 'this account is read-only' } } });
    expect(await hub.rawQueue('product').getJobScheduler('product-reindex')).toBeTruthy();
    expect(await readAudit(hub.redis, hub.prefix)).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();
  });
});

import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestHub } from '../helpers/test-hub.ts';
import { ACCOUNTS, useDashboard } from './dashboard-harness.ts';

/** Debian's chromium (`apt-get install chromium`); playwright never downloads a browser here. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOT_DIR = new URL('../../test-results/', import.meta.url);

const hub = useTestHub();
const dash = useDashboard(() => hub.prefix);
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});
afterAll(async () => browser?.close());

describe('the board in a real browser', () => {
  it('logs in, shows the domain queues, retries a failed job and shows it completed', async () => {
    const orderId = randomUUID();
    // The order service answers 404 once (a permanent failure), then works: the retry succeeds.
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404, { status: 201, body: { invoiceId: 'INV-7' } });
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId });
    await expect(hub.finished(job)).rejects.toThrow(/404/);

    const admin = ACCOUNTS.find((a) => a.role === 'admin')!;
    const context = await browser.newContext({
      httpCredentials: { username: admin.user, password: admin.password },
      viewport: { width: 1400, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    // The test stays offline, whatever the board asks for (the next test checks it asks for nothing else).
    await page.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());

    await page.goto(`${dash.url}/`);
    const nav = page.getByRole('navigation');
    for (const queue of ['auth', 'cart', 'order', 'product']) await nav.getByRole('link', { name: queue, exact: true }).waitFor();

    await nav.getByRole('link', { name: 'order', exact: true }).click();
    await page.getByRole('main').getByRole('link', { name: /^failed/i }).click();
    await page.getByRole('link', { name: job.id }).click();
    await page.waitForURL((url) => url.pathname === `/queue/order/${job.id}`);
    await page.getByText('order.generateInvoice').first().waitFor();

    const actions = page.getByRole('main').getByRole('listitem').getByRole('button');
    await actions.first().hover();
    await page.getByText('Retry', { exact: true }).waitFor();
    await actions.first().click();
    const retried = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith(`/${job.id}/retry`));
    await page.getByRole('button', { name: 'Confirm' }).click();
    expect((await retried).ok()).toBe(true);

    await expect(hub.finished(job)).resolves.toEqual({ invoiceId: 'INV-7' });
    await page.goto(`${dash.url}/queue/order?status=completed`);
    await page.getByText(job.id).waitFor();
    await page.getByText('attempt #2').waitFor();

    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    await page.screenshot({ path: new URL('dashboard-retried-job.png', SCREENSHOT_DIR).pathname, fullPage: true });
    await context.close();
  });

  it('loads and renders from the hub alone, under a Content-Security-Policy it never violates', async () => {
    const orderId = randomUUID();
    hub.services.order.reply('POST', '/api/orders/:id/invoice', 404);
    const job = await hub.producer.enqueue('order.generateInvoice', { orderId });
    await expect(hub.finished(job)).rejects.toThrow(/404/);

    const admin = ACCOUNTS.find((a) => a.role === 'admin')!;
    const context = await browser.newContext({ httpCredentials: { username: admin.user, password: admin.password }, viewport: { width: 1400, height: 900 } });
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    // Nothing leaves loopback even if the board asks: the assertions below say whether it asked.
    await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/content security policy|csp violation|refused to/i.test(m.text())) violations.push(m.text());
    });
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} ${e.sample}`))",
    });

    const response = await page.goto(`${dash.url}/`);
    const policy = response!.headers()['content-security-policy'] ?? '';
    expect(policy).toMatch(/default-src 'none'/);
    expect(policy).toMatch(/script-src 'self'(;|$)/);
    expect(policy).not.toMatch(/unsafe-eval|https?:|\*|data:/);
    const nav = page.getByRole('navigation');
    for (const queue of ['auth', 'cart', 'order', 'product']) await nav.getByRole('link', { name: queue, exact: true }).waitFor();

    // The pages that load more code: a queue, a failed job with its data and stack, the add-job editor.
    await nav.getByRole('link', { name: 'order', exact: true }).click();
    await page.getByRole('main').getByRole('link', { name: /^failed/i }).click();
    await page.getByRole('link', { name: job.id }).click();
    await page.getByText(orderId).first().waitFor();
    await page.goto(`${dash.url}/job-schedulers`);
    await page.goto(`${dash.url}/queue/order`);
    await page.locator('button[class*="trigger-"]').first().click(); // the queue's actions menu (an icon)
    await page.getByText('Add job', { exact: true }).click();
    // The JSON editor (CodeMirror) styles itself with injected <style> elements: styled means allowed.
    const gutter = page.getByRole('dialog').locator('.cm-gutters').first();
    await gutter.waitFor();
    expect(await page.evaluate("getComputedStyle(document.querySelector('[role=dialog] .cm-gutters')).display")).toBe('flex');

    // The board's own fonts are not served: it falls back to the system's.
    expect(await page.evaluate('getComputedStyle(document.body).fontFamily')).toMatch(/system-ui/);
    expect(requests.filter((u) => !u.startsWith(`${dash.url}/`) && !u.startsWith('data:'))).toEqual([]);
    expect(violations).toEqual([]);
    await context.close();
  });
});

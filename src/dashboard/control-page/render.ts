import { randomUUID } from 'node:crypto';
import { catalog } from '../../contracts/index.ts';
import type { AuditEntry } from '../../control/audit.ts';
import type { QueueRow } from '../../control/queues.ts';
import type { ScheduleRow } from '../../control/schedules.ts';
import { ERROR_CLASSES } from '../../core/failure-record.ts';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (v: unknown): string => String(v ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const time = (ms: number | undefined) => (ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
const when = (s: ScheduleRow) => (s.cron ? `${s.cron} (${s.tz})` : `every ${Math.round(s.everyMs! / 1_000)} s`);
const rate = (r: { max: number; durationMs: number } | null) => (r ? `${r.max}/${r.durationMs} ms` : '-');

export interface PageState {
  who: string;
  readOnly: boolean;
  schedules: ScheduleRow[];
  queues: QueueRow[];
  audit: AuditEntry[];
  /** Set when the schedule could not be read (a bad BEAT_SCHEDULE): the rest of the page still works. */
  scheduleError?: string;
}

const button = (state: PageState, label: string, attrs: string) =>
  `<button type="button" ${attrs}${state.readOnly ? ' disabled title="read-only account"' : ''}>${esc(label)}</button>`;

const schedulesTable = (state: PageState) => {
  if (state.scheduleError) return `<p class="error">${esc(state.scheduleError)}</p>`;
  const rows = state.schedules.map((s) => {
    const last = s.lastRun ? `${esc(s.lastRun.outcome)} ${esc(time(s.lastRun.at))}${s.lastRun.error ? ` <span class="muted">${esc(s.lastRun.error)}</span>` : ''}` : '';
    const next = s.paused ? '<strong>paused</strong>' : s.nextRunAt ? esc(time(s.nextRunAt)) : '<span class="muted">not scheduled (beat has not run?)</span>';
    const toggle = s.paused
      ? button(state, 'Resume', `data-action="schedule-resume" data-id="${esc(s.id)}"`)
      : button(state, 'Pause', `data-action="schedule-pause" data-id="${esc(s.id)}"`);
    // One request id per rendering: a double click sends the same one, and the hub runs the entry once.
    const trigger = button(state, 'Trigger now', `data-action="schedule-trigger" data-id="${esc(s.id)}" data-request-id="${randomUUID()}"`);
    return `<tr data-schedule="${esc(s.id)}"><td>${esc(s.id)}</td><td>${esc(s.task)}</td><td>${esc(when(s))}</td><td>${next}</td><td>${last}</td><td class="actions">${toggle} ${trigger}</td></tr>`;
  });
  return `<table><thead><tr><th>schedule</th><th>task</th><th>when</th><th>next run</th><th>last run</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
};

const queuesTable = (state: PageState) => {
  const rows = state.queues.map((q) => {
    const toggle = q.paused
      ? button(state, 'Resume', `data-action="queue-resume" data-id="${esc(q.name)}"`)
      : button(state, 'Pause', `data-action="queue-pause" data-id="${esc(q.name)}"`);
    const limits = `<form class="limits" data-queue="${esc(q.name)}">
      <input name="concurrency" type="number" min="1" placeholder="concurrency" aria-label="global concurrency of ${esc(q.name)}" value="${esc(q.globalConcurrency ?? '')}">
      <input name="max" type="number" min="1" placeholder="max" aria-label="rate limit jobs of ${esc(q.name)}" value="${esc(q.globalRateLimit?.max ?? '')}">
      <input name="durationMs" type="number" min="1" placeholder="per ms" aria-label="rate limit window of ${esc(q.name)}" value="${esc(q.globalRateLimit?.durationMs ?? '')}">
      ${button(state, 'Set limits', 'data-action="queue-limits"')} ${button(state, 'Remove limits', 'data-action="queue-unlimit"')}</form>`;
    const c = q.counts;
    return `<tr data-queue="${esc(q.name)}"><td>${esc(q.name)}</td><td>${q.paused ? '<strong>paused</strong>' : 'running'}</td><td>${esc(c.waiting ?? 0)} / ${esc(c.active ?? 0)} / ${esc(c.delayed ?? 0)} / ${esc(c.failed ?? 0)}</td><td>${esc(q.workers)}</td><td>${esc(q.configured.concurrency)} per worker; global ${esc(q.globalConcurrency ?? '-')}</td><td>configured ${esc(rate(q.configured.rateLimit))}; global ${esc(rate(q.globalRateLimit))}</td><td class="actions">${toggle}${limits}</td></tr>`;
  });
  return `<table><thead><tr><th>queue</th><th>state</th><th>waiting / active / delayed / failed</th><th>workers</th><th>concurrency</th><th>rate limit</th><th></th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
};

const replayForm = (state: PageState) => `<form id="replay">
  <label>task <select name="task"><option value="">any</option>${Object.keys(catalog).map((t) => `<option>${esc(t)}</option>`).join('')}</select></label>
  <label>since <input name="since" placeholder="2026-05-01T00:00:00Z or epoch ms"></label>
  <label>until <input name="until" placeholder="now"></label>
  <label>error class <select name="class"><option value="">any</option>${ERROR_CLASSES.map((c) => `<option>${c}</option>`).join('')}</select></label>
  <label>HTTP status <input name="status" type="number" min="100" max="599"></label>
  ${button(state, 'Dry run', 'data-action="replay-dry"')} ${button(state, 'Replay', 'data-action="replay"')}
</form><div id="replay-result" class="result"></div>`;

const cancelForm = (state: PageState) => `<form id="cancel">
  <label>job id <input name="id" required placeholder="order.3f2b8c4e-..."></label>
  <label>reason <input name="reason" maxlength="200"></label>
  ${button(state, 'Cancel job', 'data-action="cancel"')}
</form>`;

const cancelWorkflowForm = (state: PageState) => `<form id="cancel-workflow">
  <label>workflow id <input name="id" required placeholder="3f2b8c4e-... (a step's $hub.workflow)"></label>
  <label>reason <input name="reason" maxlength="200"></label>
  ${button(state, 'Cancel workflow', 'data-action="cancel-workflow"')}
</form>`;

const auditTable = (state: PageState) => {
  const rows = state.audit.map(
    (e) => `<tr><td>${esc(time(e.at))}</td><td>${esc(e.who)}</td><td>${esc(e.action)}</td><td>${esc(e.target)}</td><td>${esc(e.outcome)}</td><td><code>${esc(e.detail ? JSON.stringify(e.detail) : '')}</code></td></tr>`,
  );
  return `<table id="audit"><thead><tr><th>when (UTC)</th><th>who</th><th>action</th><th>target</th><th>outcome</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
};

/** The whole page: the state as of this request; the script reloads it after each change. */
export const renderPage = (state: PageState): string => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>task-hub control</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/hub/control.css"><script type="module" src="/hub/control.js"></script></head>
<body>
<header><h1>task-hub control</h1><nav><a href="/">Board</a> <a href="/api/v1/audit">Audit (JSON)</a></nav>
<p>Logged in as <strong>${esc(state.who)}</strong>${state.readOnly ? ' <span class="badge">read-only: actions are refused</span>' : ''}</p>
<output id="status" role="status"></output></header>
<main>
<section><h2>Schedules</h2>${schedulesTable(state)}</section>
<section><h2>Queues</h2>${queuesTable(state)}</section>
<section><h2>Replay failed jobs</h2>${replayForm(state)}</section>
<section><h2>Cancel a job</h2>${cancelForm(state)}</section>
<section><h2>Cancel a workflow</h2>${cancelWorkflowForm(state)}</section>
<section><h2>Audit log</h2>${auditTable(state)}</section>
</main></body></html>`;

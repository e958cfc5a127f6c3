// The board's control page (/hub/control): each button calls the hub's control API under
// /hub/api with the page's own login, then reloads the page to show the new state. Served as a
// file: the page's Content-Security-Policy allows scripts from the hub only, none inline.
// A module script (tsc adds `export {}` when it copies this file to dist/).

const statusLine = () => document.getElementById('status');

const show = (text, ok) => {
  const s = statusLine();
  s.textContent = text;
  s.className = ok ? 'ok' : 'error';
};

const call = async (method, path, body, headers = {}) => {
  const res = await fetch(`/hub/api${path}`, {
    method,
    credentials: 'same-origin',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.error?.message ?? `${res.status} ${res.statusText}`);
  return answer;
};

const reloadSoon = () => setTimeout(() => location.reload(), 600);

const numberOrUndefined = (v) => (v === '' ? undefined : Number(v));

const replayFilter = (form) => {
  const f = new FormData(form);
  const filter = {};
  for (const k of ['task', 'since', 'until', 'class']) if (f.get(k)) filter[k] = String(f.get(k));
  if (f.get('status')) filter.status = Number(f.get('status'));
  return filter;
};

/** A cancel form's reason as the query string the cancel routes read, or nothing. */
const reasonQuery = (f) => (f.get('reason') ? `?reason=${encodeURIComponent(String(f.get('reason')))}` : '');

const actions = {
  'schedule-pause': (b) => call('POST', `/schedules/${encodeURIComponent(b.dataset.id)}/pause`).then(() => `paused ${b.dataset.id}`),
  'schedule-resume': (b) => call('POST', `/schedules/${encodeURIComponent(b.dataset.id)}/resume`).then(() => `resumed ${b.dataset.id}`),
  'schedule-trigger': (b) =>
    call('POST', `/schedules/${encodeURIComponent(b.dataset.id)}/trigger`, undefined, { 'x-request-id': b.dataset.requestId }).then(
      (r) => `${r.duplicate ? 'already triggered' : 'triggered'} ${b.dataset.id}: job ${r.jobId}`,
    ),
  'queue-pause': (b) => call('POST', `/queues/${encodeURIComponent(b.dataset.id)}/pause`).then(() => `paused queue ${b.dataset.id}`),
  'queue-resume': (b) => call('POST', `/queues/${encodeURIComponent(b.dataset.id)}/resume`).then(() => `resumed queue ${b.dataset.id}`),
  'queue-limits': (b) => {
    const form = b.closest('form');
    const f = new FormData(form);
    const body = {};
    const concurrency = numberOrUndefined(f.get('concurrency'));
    if (concurrency !== undefined) body.concurrency = concurrency;
    const max = numberOrUndefined(f.get('max'));
    const durationMs = numberOrUndefined(f.get('durationMs'));
    if (max !== undefined || durationMs !== undefined) body.rateLimit = { max, durationMs };
    return call('PUT', `/queues/${encodeURIComponent(form.dataset.queue)}/limits`, body).then(() => `limits set on ${form.dataset.queue}`);
  },
  'queue-unlimit': (b) => {
    const form = b.closest('form');
    return call('PUT', `/queues/${encodeURIComponent(form.dataset.queue)}/limits`, { concurrency: null, rateLimit: null }).then(() => `limits removed from ${form.dataset.queue}`);
  },
  'replay-dry': async (b) => {
    const r = await call('POST', '/replays', { ...replayFilter(b.closest('form')), dryRun: true });
    document.getElementById('replay-result').textContent = `${r.matched} failed job(s) match.\n${r.sample.map((s) => `${s.id}  ${s.task}  ${s.errorClass}${s.httpStatus ? ` ${s.httpStatus}` : ''}  ${s.failedReason ?? ''}`).join('\n')}`;
    return { text: `dry run: ${r.matched} job(s) would be replayed`, stay: true };
  },
  replay: async (b) => {
    const r = await call('POST', '/replays', replayFilter(b.closest('form')));
    return `replayed ${r.retried} of ${r.matched} job(s)${r.skipped ? ` (${r.skipped} retried by someone else meanwhile)` : ''}`;
  },
  cancel: (b) => {
    const f = new FormData(b.closest('form'));
    return call('DELETE', `/jobs/${encodeURIComponent(String(f.get('id')))}${reasonQuery(f)}`).then(() => `cancelled ${f.get('id')}`);
  },
  'cancel-workflow': async (b) => {
    const f = new FormData(b.closest('form'));
    const r = await call('DELETE', `/workflows/${encodeURIComponent(String(f.get('id')))}${reasonQuery(f)}`);
    if (r.outcome === 'finished') return `workflow ${r.workflowId} had already finished: nothing to cancel`;
    return `cancelled workflow ${r.workflowId}: ${r.jobs.map((j) => `${j.id} ${j.outcome}`).join(', ') || 'no job was still open'}`;
  },
};

document.addEventListener('click', async (event) => {
  const b = event.target instanceof Element ? event.target.closest('button[data-action]') : null;
  if (!b || b.disabled) return;
  event.preventDefault();
  const run = actions[b.dataset.action];
  if (!run) return;
  b.disabled = true;
  try {
    const done = await run(b);
    const { text, stay } = typeof done === 'string' ? { text: done, stay: false } : done;
    show(text, true);
    if (!stay) reloadSoon();
  } catch (err) {
    show(err.message, false);
  } finally {
    b.disabled = false;
  }
});

document.addEventListener('submit', (event) => event.preventDefault());

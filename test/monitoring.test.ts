import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { useDashboard } from './dashboard/dashboard-harness.ts';
import { useTestHub } from './helpers/test-hub.ts';

/**
 * The monitoring that ships in deploy/: alert rules checked and unit-tested by Prometheus' own
 * promtool, the scrape config it loads, and a Grafana dashboard whose every query names a metric
 * the hub exports.
 */
const PROMTOOL = process.env.PROMTOOL_PATH ?? 'promtool';
const root = new URL('..', import.meta.url).pathname;
const prometheusDir = join(root, 'deploy/prometheus');
const promtool = (args: string[], cwd = prometheusDir) => {
  const r = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8' });
  if (r.error) throw new Error(`${PROMTOOL} is missing: apt-get install -y --no-install-recommends prometheus (or set PROMTOOL_PATH)`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
};

type Rule = { alert: string; expr: string };
type AlertTest = { alertname: string; exp_alerts: unknown[] };
const rulesFile = () => parse(readFileSync(join(prometheusDir, 'alerts.yml'), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const alerts = rulesFile().groups.flatMap((g) => g.rules);
const testFiles = readdirSync(join(prometheusDir, 'tests')).filter((f) => f.endsWith('.test.yml')).sort();
const kebab = (alert: string) => alert.replace(/^TaskHub/, '').replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
const alertTestsIn = (file: string): AlertTest[] =>
  (parse(readFileSync(join(prometheusDir, 'tests', file), 'utf8')) as { tests: { alert_rule_test: AlertTest[] }[] }).tests.flatMap((t) => t.alert_rule_test);

describe('deploy/prometheus/alerts.yml', () => {
  it('passes promtool check rules without a warning', () => {
    const r = promtool(['check', 'rules', 'alerts.yml']);
    expect(r.output).toContain(`SUCCESS: ${alerts.length} rules found`);
    expect(r.output).not.toMatch(/warn/i);
    expect(r.status).toBe(0);
  });

  it('alerts on backlog age, failure ratio, missing workers, missed schedules, Redis memory and a dashboard down', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      ['TaskHubBacklogAge', 'TaskHubDashboardDown', 'TaskHubNoWorker', 'TaskHubRedisMemoryHigh', 'TaskHubScheduleMissed', 'TaskHubTaskFailureRatio'].sort(),
    );
  });

  it('has a test file per alert, each checking that it fires and that it stays quiet', () => {
    expect(testFiles).toEqual(alerts.map((a) => `${kebab(a.alert)}.test.yml`).sort());
    for (const { alert } of alerts) {
      const checks = alertTestsIn(`${kebab(alert)}.test.yml`);
      expect(checks.every((c) => c.alertname === alert), alert).toBe(true);
      expect(checks.some((c) => c.exp_alerts.length > 0), `${alert} fires`).toBe(true);
      expect(checks.some((c) => c.exp_alerts.length === 0), `${alert} stays quiet`).toBe(true);
    }
  });

  it('passes promtool test rules', () => {
    const r = promtool(['test', 'rules', ...testFiles.map((f) => `tests/${f}`)]);
    expect(r.output).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
  });

  describe('the tests catch a broken rule', () => {
    const dir = mkdtempSync(join(tmpdir(), 'task-hub-rules-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const withExpr = (alert: string, expr: string) => {
      cpSync(prometheusDir, dir, { recursive: true });
      const rules = rulesFile();
      for (const g of rules.groups) for (const r of g.rules) if (r.alert === alert) r.expr = expr;
      writeFileSync(join(dir, 'alerts.yml'), stringify(rules));
      return promtool(['test', 'rules', `tests/${kebab(alert)}.test.yml`], dir);
    };

    it.each(alerts.map((a) => a.alert))('%s: one that never fires, and one that always does, fail its tests', (alert) => {
      expect(withExpr(alert, 'vector(1) > 2').status).not.toBe(0);
      const original = alerts.find((a) => a.alert === alert)!.expr;
      // Always true, with the labels the alert keeps: only the "stays quiet" checks can catch it.
      expect(withExpr(alert, `(${original}) or (${original.replace(/>\s*[\d.]+/g, '>= 0').replace(/==\s*0/g, '>= 0')})`).status).not.toBe(0);
    });
  });

  it('deploy/prometheus/prometheus.yml passes promtool check config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'task-hub-prom-'));
    try {
      const config = readFileSync(join(prometheusDir, 'prometheus.yml'), 'utf8')
        .replace('__DASHBOARD_READONLY_USER__', 'viewer')
        .replace('/etc/task-hub/alerts.yml', join(prometheusDir, 'alerts.yml'));
      writeFileSync(join(dir, 'prometheus.yml'), config);
      const r = promtool(['check', 'config', 'prometheus.yml'], dir);
      expect(r.output).toMatch(/SUCCESS/);
      expect(r.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Metric names a PromQL expression reads: the hub's, Node's, and Prometheus' own `up`. */
const metricsIn = (expr: string): string[] => [...expr.matchAll(/\b(taskhub_[a-z0-9_]+|process_[a-z0-9_]+|nodejs_[a-z0-9_]+|up)\b(?=\s*[{[),\s]|$)/g)].map((m) => m[1]!);

type Panel = { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[] };
const grafana = JSON.parse(readFileSync(join(root, 'deploy/grafana/task-hub.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; definition?: string }[] };
};

describe('deploy/grafana/task-hub.json', () => {
  const hub = useTestHub({ worker: false });
  const dash = useDashboard(() => hub.prefix, { processMetrics: true });

  /** Every series name /metrics can carry: each family of `# TYPE`, histograms with their suffixes. */
  const exported = async (): Promise<Set<string>> => {
    const res = await dash.get('/metrics', 'viewer');
    expect(res.status).toBe(200);
    const names = new Set<string>(['up']);
    for (const [, name, type] of (await res.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(name!);
      if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    }
    return names;
  };

  it('queries only metrics the hub exports, in every panel and variable', async () => {
    const names = await exported();
    const queries = [
      ...grafana.panels.filter((p) => p.type !== 'row').flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr }))),
      ...grafana.templating.list.filter((v) => v.definition).map((v) => ({ where: `variable ${v.name}`, expr: v.definition! })),
    ];
    expect(queries.length).toBeGreaterThan(10);
    for (const { where, expr } of queries) {
      const used = metricsIn(expr);
      expect(used.length, `${where}: names no metric`).toBeGreaterThan(0);
      expect(used.filter((m) => !names.has(m)), `${where}: ${expr}`).toEqual([]);
    }
    // The alert rules too.
    for (const { alert, expr } of alerts) expect(metricsIn(expr).filter((m) => !names.has(m)), alert).toEqual([]);
    // The check sees a name the hub does not export.
    expect(metricsIn('rate(taskhub_task_made_up_total[5m])').filter((m) => !names.has(m))).toEqual(['taskhub_task_made_up_total']);
  });

  it('covers throughput and failures per task, queue age, durations, workers, schedules and Redis memory', () => {
    const all = grafana.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricsIn(t.expr)));
    for (const metric of [
      'taskhub_task_completed_total',
      'taskhub_task_failed_total',
      'taskhub_queue_oldest_waiting_seconds',
      'taskhub_task_queue_wait_seconds_bucket',
      'taskhub_task_duration_seconds_bucket',
      'taskhub_workers_online',
      'taskhub_schedule_next_run_timestamp_seconds',
      'taskhub_schedule_last_run_timestamp_seconds',
      'taskhub_schedule_last_run_outcome',
      'taskhub_redis_memory_used_bytes',
      'taskhub_redis_memory_max_bytes',
    ]) {
      expect(all, metric).toContain(metric);
    }
    for (const p of grafana.panels.filter((p) => p.type !== 'row')) expect(p.datasource?.uid, p.title).toBe('${datasource}');
  });

  it('is what the monitoring profile provisions', () => {
    const provider = parse(readFileSync(join(root, 'deploy/grafana/provisioning/dashboards/task-hub.yml'), 'utf8')) as { providers: { options: { path: string } }[] };
    const source = parse(readFileSync(join(root, 'deploy/grafana/provisioning/datasources/task-hub.yml'), 'utf8')) as { datasources: { type: string; url: string }[] };
    expect(provider.providers[0]!.options.path).toBe('/var/lib/grafana/dashboards');
    expect(source.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090' });
    expect(grafana.uid).toBe('task-hub');
  });
});

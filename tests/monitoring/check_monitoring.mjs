#!/usr/bin/env node
// Checks the monitoring pieces in deploy/k8s/monitoring/ offline:
//   - the PrometheusRule's rule groups pass `promtool check rules`, and the
//     unit tests in rules_test.yaml pass `promtool test rules`;
//   - every alert has a severity, a summary, a description and a
//     runbook_url pointing at its own entry in docs/operations.md (a
//     heading that is the alert's name, with what it means, how to confirm
//     and what to do), and every runbook entry belongs to an alert;
//   - the Grafana dashboard is valid JSON whose panels all query something,
//     and every metric a rule or a panel names is one the services export
//     (named in the C++ sources; the integration test MonitoringScrapeTest
//     checks the same names against real /metrics scrapes).
// promtool comes from Debian's prometheus package (scripts/install-deps.sh).
//
// Usage: node tests/monitoring/check_monitoring.mjs. The last line reads
// "N passed, M failed"; the exit status is 1 on any failure.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
// The YAML parser tests/deploy already installs (npm ci there).
const YAML = createRequire(path.join(repo, 'tests', 'deploy', 'package.json'))('yaml');

const monitoringDir = path.join(repo, 'deploy', 'k8s', 'monitoring');
const rulesPath = path.join(monitoringDir, 'prometheusrule.yaml');
const dashboardPath = path.join(monitoringDir, 'dashboards', 'accord.json');
const runbookPath = path.join(repo, 'docs', 'operations.md');

let passed = 0;
let failed = 0;
function test(name, fn) {
  let problems;
  try {
    problems = fn() ?? [];
  } catch (e) {
    problems = [e.stack ?? String(e)];
  }
  if (problems.length === 0) {
    passed++;
    console.log(`ok   ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}`);
    for (const p of problems) console.log(`       ${String(p).replace(/\n/g, '\n       ')}`);
  }
}

function promtool(args, cwd) {
  const r = spawnSync('promtool', args, { cwd, encoding: 'utf8' });
  if (r.error) return [`promtool ${args.join(' ')}: ${r.error.message} (scripts/install-deps.sh installs Debian's prometheus package)`];
  return r.status === 0 ? [] : [`promtool ${args.join(' ')} exited ${r.status}:\n${r.stdout}${r.stderr}`];
}

// GitHub's heading anchors: lower case, punctuation dropped, spaces to -.
export function anchorOf(heading) {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

// The alert entries of the runbook: "### Name" headings under "## Alerts",
// each with the text up to the next heading of level 2 or 3.
function runbookEntries(markdown) {
  const entries = new Map();
  let inAlerts = false;
  let current = null;
  for (const line of markdown.split('\n')) {
    const h2 = /^## (.*)$/.exec(line);
    const h3 = /^### (.*)$/.exec(line);
    if (h2) {
      inAlerts = h2[1].trim() === 'Alerts';
      current = null;
    } else if (h3) {
      current = inAlerts ? h3[1].trim() : null;
      if (current) entries.set(current, '');
    } else if (current) {
      entries.set(current, entries.get(current) + line + '\n');
    }
  }
  return entries;
}

// Metric names in a PromQL expression: identifiers not followed by "(",
// minus keywords, label names inside {…} and by/without lists, strings,
// and Grafana variables.
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless',
  'bool', 'offset', 'le', 'inf', 'nan']);
export function metricNames(expr) {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\$\w+/g, ' ');
  const names = new Set();
  for (const m of text.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)) {
    if (m[2]) continue;  // a function or aggregation
    if (PROMQL_WORDS.has(m[1].toLowerCase())) continue;
    if (/^\d/.test(m[1])) continue;
    names.add(m[1]);
  }
  return [...names];
}

// The metric families the services export: every "accord_…" and
// "process_…" string in the C++ sources outside tests, with histograms'
// _bucket/_sum/_count series; plus `up`, which Prometheus adds itself.
function exportedNames() {
  const names = new Set(['up']);
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (/\.(cc|h)$/.test(entry.name) && !/_test\.cc$|test_support\.h$/.test(entry.name)) {
        const source = fs.readFileSync(p, 'utf8');
        for (const m of source.matchAll(/"((?:accord|process)_[a-z0-9_]+)"/g)) names.add(m[1]);
        for (const m of source.matchAll(/constexpr char \w+\[\] =\s*"((?:accord|process)_[a-z0-9_]+)"/g)) names.add(m[1]);
      }
    }
  };
  walk(path.join(repo, 'common'));
  walk(path.join(repo, 'services'));
  return names;
}
function isExported(name, exported) {
  return exported.has(name) || exported.has(name.replace(/_(bucket|sum|count)$/, ''));
}

const ruleDoc = YAML.parse(fs.readFileSync(rulesPath, 'utf8'));
const alerts = (ruleDoc.spec?.groups ?? []).flatMap((g) => (g.rules ?? []).filter((r) => r.alert));

// promtool reads files: the rule groups and the unit tests go here.
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-rules-'));
process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));

test('the PrometheusRule passes promtool check rules', () => {
  const dir = scratch;
  fs.writeFileSync(path.join(dir, 'accord.rules.yaml'), YAML.stringify(ruleDoc.spec));
  return promtool(['check', 'rules', 'accord.rules.yaml'], dir);
});

test('promtool test rules: the alert unit tests in tests/monitoring/rules_test.yaml pass', () => {
  const dir = scratch;
  fs.writeFileSync(path.join(dir, 'accord.rules.yaml'), YAML.stringify(ruleDoc.spec));
  fs.copyFileSync(path.join(here, 'rules_test.yaml'), path.join(dir, 'rules_test.yaml'));
  const tested = new Set(
    (YAML.parse(fs.readFileSync(path.join(here, 'rules_test.yaml'), 'utf8')).tests ?? [])
      .flatMap((t) => (t.alert_rule_test ?? []).filter((a) => (a.exp_alerts ?? []).length > 0).map((a) => a.alertname)));
  const problems = promtool(['test', 'rules', 'rules_test.yaml'], dir);
  if (tested.size < 2) problems.push(`only ${[...tested].join(', ') || 'no alert'} is shown firing; test at least two`);
  return problems;
});

test('the alerts cover the services, errors, Redis latency, webhook backlog age and dead letters', () => {
  const problems = [];
  const byName = new Map(alerts.map((a) => [a.alert, a]));
  if (byName.size !== alerts.length) problems.push('two alerts share a name');
  const wants = {
    'a service not serving': (e) => /\bup\b/.test(e) || /accord_ready/.test(e),
    'the gRPC error ratio': (e) => /accord_rpc_requests_total/.test(e) && /code=~?"/.test(e),
    'Redis round-trip latency': (e) => /accord_redis_round_trip_seconds_bucket/.test(e),
    'the webhook backlog age': (e) => /accord_webhook_oldest_undelivered_age_seconds/.test(e),
    'dead letters': (e) => /accord_webhook_dead_letters_total/.test(e),
  };
  for (const [what, matches] of Object.entries(wants)) {
    if (!alerts.some((a) => matches(a.expr))) problems.push(`no alert on ${what}`);
  }
  return problems;
});

const runbookText = fs.existsSync(runbookPath) ? fs.readFileSync(runbookPath, 'utf8') : '';
// What is wrong with `alerts` against the runbook `markdown`.
function runbookProblems(alerts, markdown) {
  const problems = [];
  const entries = runbookEntries(markdown);
  for (const a of alerts) {
    const where = `alert ${a.alert}`;
    if (!['critical', 'warning'].includes(a.labels?.severity)) problems.push(`${where}: severity must be critical or warning`);
    for (const key of ['summary', 'description', 'runbook_url']) {
      if (!a.annotations?.[key]) problems.push(`${where}: no ${key} annotation`);
    }
    if (!entries.has(a.alert)) {
      problems.push(`${where}: docs/operations.md has no "### ${a.alert}" under "## Alerts"`);
      continue;
    }
    const url = a.annotations?.runbook_url ?? '';
    const want = `docs/operations.md#${anchorOf(a.alert)}`;
    if (!url.startsWith('https://') || !url.endsWith(want)) problems.push(`${where}: runbook_url ${url} does not end with ${want}`);
    const text = entries.get(a.alert);
    for (const part of ['What it means', 'How to confirm', 'What to do']) {
      if (!text.includes(`**${part}**`)) problems.push(`${where}: its runbook entry has no **${part}**`);
    }
  }
  const names = new Set(alerts.map((a) => a.alert));
  for (const entry of entries.keys()) {
    if (!names.has(entry)) problems.push(`docs/operations.md: runbook entry "${entry}" has no alert in the PrometheusRule`);
  }
  return problems;
}

test('every alert has a severity, summary, description and a runbook entry its runbook_url points at', () =>
  (runbookText ? runbookProblems(alerts, runbookText) : ['docs/operations.md is missing']));

test('self-test: a missing runbook entry, a wrong runbook_url and a stale entry are each caught', () => {
  const alert = (name, url) => ({ alert: name, labels: { severity: 'warning' },
    annotations: { summary: 's', description: 'd', runbook_url: url } });
  const doc = '## Alerts\n\n### AccordA\n\n**What it means**: x\n**How to confirm**: y\n**What to do**: z\n\n' +
    '### AccordStale\n\n**What it means**: x\n**How to confirm**: y\n**What to do**: z\n';
  const got = runbookProblems([
    alert('AccordA', 'https://x/docs/operations.md#accordb'),
    alert('AccordMissing', 'https://x/docs/operations.md#accordmissing'),
  ], doc);
  const want = [/AccordA: runbook_url/, /AccordMissing: docs\/operations.md has no/, /"AccordStale" has no alert/];
  return want.filter((w) => !got.some((p) => w.test(p))).map((w) => `not caught: ${w} (got ${got.join('; ')})`);
});

const exported = exportedNames();

test('every metric the rules name is exported by the services', () => {
  const problems = [];
  for (const rule of (ruleDoc.spec?.groups ?? []).flatMap((g) => g.rules ?? [])) {
    for (const name of metricNames(rule.expr)) {
      if (!isExported(name, exported)) problems.push(`${rule.alert ?? rule.record}: ${name} is not exported by any service`);
    }
  }
  return problems;
});

let dashboard = null;
test('the Grafana dashboard is valid JSON with a uid, and every panel queries something', () => {
  dashboard = JSON.parse(fs.readFileSync(dashboardPath, 'utf8'));
  const problems = [];
  if (!dashboard.uid || !dashboard.title) problems.push('no uid or title');
  const ids = new Set();
  for (const p of dashboard.panels ?? []) {
    if (ids.has(p.id)) problems.push(`panel id ${p.id} repeats`);
    ids.add(p.id);
    if (p.type === 'row') continue;
    if (!p.title) problems.push(`panel ${p.id} has no title`);
    if (!(p.targets ?? []).length || p.targets.some((t) => !t.expr)) problems.push(`panel "${p.title}" has a target without expr`);
  }
  if (ids.size < 10) problems.push(`only ${ids.size} panels`);
  return problems;
});

test('every metric the dashboard names is exported by the services', () => {
  if (!dashboard) return ['no dashboard'];
  const problems = [];
  const needed = new Set();
  for (const p of dashboard.panels ?? []) {
    for (const t of p.targets ?? []) {
      for (const name of metricNames(t.expr)) {
        needed.add(name);
        if (!isExported(name, exported)) problems.push(`panel "${p.title}": ${name} is not exported by any service`);
      }
    }
  }
  for (const must of ['accord_rpc_requests_total', 'accord_rpc_latency_seconds_bucket', 'accord_redis_round_trip_seconds_bucket',
    'accord_webhook_backlog', 'accord_webhook_oldest_undelivered_age_seconds', 'accord_webhook_dead_letters_total']) {
    if (!needed.has(must)) problems.push(`no panel shows ${must}`);
  }
  return problems;
});

test('every dashboard query is valid PromQL (promtool parses it, Grafana variables filled in)', () => {
  if (!dashboard) return ['no dashboard'];
  const rules = [];
  for (const p of dashboard.panels ?? []) {
    for (const t of p.targets ?? []) {
      const expr = t.expr
        .replace(/\$__rate_interval|\$__interval/g, '5m')
        .replace(/\$namespace/g, 'accord')
        .replace(/\$job/g, 'accord-.*');
      rules.push({ record: `dashboard:panel_${p.id}:${t.refId}`, expr });
    }
  }
  fs.writeFileSync(path.join(scratch, 'dashboard.rules.yaml'), YAML.stringify({ groups: [{ name: 'dashboard', rules }] }));
  return promtool(['check', 'rules', 'dashboard.rules.yaml'], scratch);
});

test('self-test: metric names are found in PromQL, labels and functions are not', () => {
  const got = metricNames('histogram_quantile(0.99, sum by (job, le) (rate(accord_x_bucket{code=~"A|B", job="$job"}[5m]))) / on (job) up > 0.5 and absent(foo)').sort();
  const want = ['accord_x_bucket', 'foo', 'up'];
  return JSON.stringify(got) === JSON.stringify(want) ? [] : [`found ${got.join(', ')}, expected ${want.join(', ')}`];
});

test('self-test: a rule on a metric nobody exports is caught', () =>
  (isExported('accord_not_a_metric_total', exported) ? ['accord_not_a_metric_total counted as exported'] : []));

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// Checks deploy/: renders every kustomize overlay with lib/kustomize.mjs
// (and, where kubectl is installed, with `kubectl kustomize` too, which must
// render exactly the same), validates each object against the Kubernetes
// schemas (kubernetes-models), applies Accord's rules (restricted Pod
// Security, gRPC probes, labels, limits, NetworkPolicy coverage and flows,
// Redis ACLs, the Sentinel component's topology), lints the Dockerfile, then
// tries the dev Redis configuration and every overlay's service settings for
// real: redis-server with the rendered redis.conf and ACL file, the service
// binaries with the rendered environment, and the ha overlay's Redis and
// Sentinel pods (with test credentials) through a first boot, a failover
// and a rejoin.
// A self-test breaks rendered manifests on purpose and expects complaints.
//
// Usage: node tests/deploy/check_manifests.mjs [--bin-dir DIR]
//   (default DIR: build/bin; CTest passes its own). The last line reads
//   "N passed, M failed"; the exit status is 1 on any failure.

import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

import {
  find, ofKind, podTemplate, containerEnv, secretData, id, selectorMatches, mapSelectorMatches, durationSeconds,
} from './lib/k8s.mjs';
import { kustomize, diffRenderings } from './lib/kustomize.mjs';
import {
  checkNamespace, checkLabels, checkPodSecurity, checkServiceDeployments,
  checkReferences, checkNetworkPolicies, checkFlows, checkRedis, checkSentinel, lintAll, parseAcl,
  redisStatefulSet, sentinelStatefulSet, serviceRedisLogin,
} from './lib/lint.mjs';
import { lintDockerfile, runtimePackages, SERVICES } from './lib/dockerfile.mjs';
import { startRedis, RespClient, RedisError, luaLibrary } from './lib/redis.mjs';
import { startService, waitReady, terminate } from './lib/processes.mjs';
import { LocalPods } from './lib/pods.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const args = process.argv.slice(2);
const binDir = path.resolve(args.includes('--bin-dir') ? args[args.indexOf('--bin-dir') + 1] : path.join(repo, 'build', 'bin'));

let passed = 0;
let failed = 0;
async function test(name, fn) {
  let problems;
  try {
    problems = (await fn()) ?? [];
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

// --- what each overlay is expected to do -------------------------------------

const OVERLAYS = {
  dev: { externalSecrets: [], redis: 'in-cluster' },
  // components/redis-sentinel: Redis and Sentinel in the cluster, every
  // credential from Secrets the operator creates (deploy/README.md).
  ha: {
    externalSecrets: [
      ...SERVICES.flatMap((s) => [`accord-${s}-redis`, `accord-${s}-api`]),
      'accord-redis-acl', 'accord-redis-replication', 'accord-redis-sentinel',
    ],
    redis: 'sentinel',
  },
  prod: {
    // Created by the operator (deploy/README.md, "Production"), never in git.
    externalSecrets: [
      ...SERVICES.flatMap((s) => [`accord-${s}-redis`, `accord-${s}-api`]),
      'accord-redis-tls',
    ],
    redis: { ip: '192.0.2.10', port: 6380 },
  },
};

function expectedFlows(objects, overlay) {
  const svc = ofKind(objects, 'Deployment').map((d) => ({
    name: d.metadata.labels['app.kubernetes.io/name'],
    grpc: podTemplate(d).spec.containers[0].ports.find((p) => p.name === 'grpc').containerPort,
  }));
  const flows = [];
  for (const { name, grpc } of svc) {
    flows.push(
      ['client-namespace pod', name, grpc, 'allow'],
      ['labelled client pod', name, grpc, 'allow'],
      ['other-namespace pod', name, grpc, 'deny'],
      ['other-namespace pod labelled client', name, grpc, 'deny'],
      ['unlabelled pod', name, grpc, 'deny'],
      ['prometheus', name, 9090, 'allow'],
      ['prometheus', name, grpc, 'deny'],
      ['client-namespace pod', name, 9090, 'deny'],
      [name, 'kube-dns', 53, 'allow', 'UDP'],
      [name, 'kube-dns', 53, 'allow', 'TCP'],
      [name, 'other-namespace pod', 8080, 'deny'],
    );
    for (const other of svc) {
      if (other.name === name) continue;
      const want = name === 'accord-agreement' && other.name === 'accord-institution' ? 'allow' : 'deny';
      flows.push([name, other.name, other.grpc, want]);
    }
    const internet = name === 'accord-notification' ? 'allow' : 'deny';
    flows.push([name, 'public v4', 443, internet], [name, 'public v6', 443, internet]);
    if (overlay.redis === 'in-cluster') {
      flows.push([name, 'redis', 6379, 'allow'], ['redis', name, grpc, 'deny']);
    } else if (overlay.redis === 'sentinel') {
      flows.push(
        [name, 'redis', 6379, 'allow'], [name, 'redis-sentinel', 26379, 'allow'],
        [name, 'redis-sentinel', 6379, 'deny'], [name, 'redis', 26379, 'deny'],
        ['redis', name, grpc, 'deny'], ['redis-sentinel', name, grpc, 'deny'],
      );
    } else {
      flows.push(
        [name, overlay.redis.ip, overlay.redis.port, 'allow'],
        [name, overlay.redis.ip, 6379, 'deny'],
        [name, '10.9.9.9', overlay.redis.port, 'deny'],
      );
    }
  }
  flows.push(
    ['accord-notification', 'public v4', 80, 'deny'],
    ['accord-notification', 'cloud metadata', 443, 'deny'],
    ['accord-notification', 'private 10/8', 443, 'deny'],
    ['accord-notification', 'private 192.168/16', 443, 'deny'],
    ['accord-notification', 'private v6', 443, 'deny'],
  );
  if (overlay.redis === 'sentinel') {
    flows.push(
      // Replication, and the init container asking the Sentinels.
      ['redis', 'redis', 6379, 'allow'], ['redis', 'redis-sentinel', 26379, 'allow'],
      // Watching and reconfiguring Redis, talking to each other.
      ['redis-sentinel', 'redis', 6379, 'allow'], ['redis-sentinel', 'redis-sentinel', 26379, 'allow'],
      ['redis-sentinel', 'kube-dns', 53, 'allow', 'UDP'], ['redis-sentinel', 'kube-dns', 53, 'allow', 'TCP'],
      ['client-namespace pod', 'redis-sentinel', 26379, 'deny'],
      ['labelled client pod', 'redis-sentinel', 26379, 'deny'],
      ['unlabelled pod', 'redis-sentinel', 26379, 'deny'],
      ['other-namespace pod', 'redis-sentinel', 26379, 'deny'],
      ['prometheus', 'redis-sentinel', 26379, 'deny'],
      ['redis-sentinel', 'public v4', 443, 'deny'],
      ['redis-sentinel', 'other-namespace pod', 6379, 'deny'],
      ['redis', 'other-namespace pod', 6379, 'deny'],
    );
  }
  if (overlay.redis === 'in-cluster' || overlay.redis === 'sentinel') {
    flows.push(
      ['client-namespace pod', 'redis', 6379, 'deny'],
      ['unlabelled pod', 'redis', 6379, 'deny'],
      ['prometheus', 'redis', 6379, 'deny'],
      ['redis', 'public v4', 443, 'deny'],
      ['redis', 'kube-dns', 53, 'allow', 'UDP'],
    );
  }
  return flows;
}

// --- rendering and schema validation -----------------------------------------

function kubectlPath() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'kubectl');
    if (fs.existsSync(candidate)) return candidate;
  }
  return null;
}

function renderWithKubectl(dir) {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const docs = parseAllDocuments(out);
  const errors = docs.flatMap((d) => d.errors.map((e) => e.message));
  if (errors.length) throw new Error(`YAML errors in the rendering of ${dir}: ${errors.join('; ')}`);
  return docs.map((d) => d.toJS()).filter(Boolean);
}

// The kustomize bundled with kubectl, e.g. "v5.5.0"; null if not printed.
function kubectlKustomizeVersion() {
  const r = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  return /Kustomize Version:\s*(v\S+)/.exec(r.stdout ?? '')?.[1] ?? null;
}

// Renders `dir` with lib/kustomize.mjs; with kubectl available, renders it
// with `kubectl kustomize` too and reports every difference. Returns the
// objects (kubectl's where it ran) and the problems.
function render(dir) {
  const objects = kustomize(dir);
  if (!crossCheck) return { objects, problems: [] };
  const reference = renderWithKubectl(dir);
  const problems = diffRenderings(reference, objects);
  if (problems.length) problems.unshift(`lib/kustomize.mjs and kubectl kustomize (${kubectlVersion}) render ${path.relative(repo, dir)} differently:`);
  return { objects: reference, problems };
}

const modelCache = new Map();
async function modelClass(apiVersion, kind) {
  // The Prometheus Operator's CRDs (deploy/k8s/monitoring) have their own
  // schema package.
  const modulePath = apiVersion.startsWith('monitoring.coreos.com/')
    ? `@kubernetes-models/prometheus-operator/${apiVersion}`
    : `kubernetes-models/${apiVersion}`;
  if (!modelCache.has(modulePath)) {
    modelCache.set(modulePath, await import(modulePath).catch(() => null));
  }
  return modelCache.get(modulePath)?.[kind];
}

async function schemaProblems(objects) {
  const problems = [];
  for (const obj of objects) {
    const Model = await modelClass(obj.apiVersion, obj.kind);
    if (!Model) {
      problems.push(`${id(obj)}: no schema for ${obj.apiVersion} ${obj.kind}`);
      continue;
    }
    const copy = structuredClone(obj);
    // kustomize wraps long base64 values over lines; the API server's
    // decoder (Go's base64) skips newlines, the schema's "byte" format not.
    if (copy.kind === 'Secret') {
      for (const k of Object.keys(copy.data ?? {})) copy.data[k] = copy.data[k].replace(/[\r\n]/g, '');
    }
    try {
      new Model(copy).validate();
    } catch (e) {
      problems.push(`${id(obj)}: ${e.message}`);
    }
  }
  return problems;
}

// --- main --------------------------------------------------------------------

const k8sDir = path.join(repo, 'deploy', 'k8s');
const rendered = {};

// kubectl is optional: lib/kustomize.mjs renders the overlays. Where kubectl
// (with kustomize v5 or newer; Debian's kubernetes-client 1.20 has v2) is
// installed, every rendering is compared with its `kubectl kustomize`.
const kubectl = kubectlPath();
const kubectlVersion = kubectl ? kubectlKustomizeVersion() : null;
const crossCheck = Boolean(kubectl) && !(kubectlVersion && Number(/^v(\d+)/.exec(kubectlVersion)?.[1]) < 5);
console.log(crossCheck
  ? `note kubectl ${kubectl} (kustomize ${kubectlVersion ?? 'version unknown'}): every rendering is compared with kubectl kustomize`
  : kubectl
    ? `note kubectl ${kubectl} bundles kustomize ${kubectlVersion}, older than v5: renderings not compared with it`
    : 'note kubectl not on PATH: renderings not compared with kubectl kustomize (lib/kustomize.mjs renders them)');

// The renderer's own check, with or without kubectl: a fixture whose
// generated names (content hashes) and rewritten references are known
// from kubectl 1.32 (kustomize v5.5.0).
await test('lib/kustomize.mjs renders the fixture: kustomize\'s hashed names, references rewritten', () => {
  const problems = [];
  const fixtures = path.join(here, 'fixtures', 'kustomize');
  const expected = {
    base: { ConfigMap: 'settings-9g6mbt42fd' },
    overlay: { ConfigMap: 'settings-5h546d2kct', Secret: 'credentials-kkc9997tdm' },
  };
  for (const [dir, names] of Object.entries(expected)) {
    const objects = kustomize(path.join(fixtures, dir));
    if (crossCheck) problems.push(...diffRenderings(renderWithKubectl(path.join(fixtures, dir)), objects));
    for (const [kind, name] of Object.entries(names)) {
      const got = ofKind(objects, kind).map((o) => o.metadata.name);
      if (got.join() !== name) problems.push(`${dir}: generated ${kind} ${got.join(', ') || '(none)'}, expected ${name}`);
    }
    const spec = podTemplate(find(objects, 'Deployment', 'fixture')).spec;
    const c = spec.containers[0];
    const refs = {
      'configMapRef': c.envFrom[0].configMapRef.name,
      'configMapKeyRef': c.env.find((e) => e.name === 'LEVEL').valueFrom.configMapKeyRef.name,
      'secretKeyRef': c.env.find((e) => e.name === 'URL').valueFrom.secretKeyRef.name,
      'initContainers secretRef': spec.initContainers[0].envFrom[0].secretRef.name,
      'volume configMap': spec.volumes.find((v) => v.name === 'settings').configMap.name,
      'volume secret': spec.volumes.find((v) => v.name === 'credentials').secret.secretName,
      'projected configMap': spec.volumes.find((v) => v.name === 'both').projected.sources[0].configMap.name,
      'projected secret': spec.volumes.find((v) => v.name === 'both').projected.sources[1].secret.name,
    };
    for (const [what, ref] of Object.entries(refs)) {
      const want = /configMap/i.test(what) ? names.ConfigMap : (names.Secret ?? 'credentials');
      if (ref !== want) problems.push(`${dir}: ${what} names ${ref}, expected ${want}`);
    }
    const other = c.env.find((e) => e.name === 'OTHER').valueFrom.secretKeyRef.name;
    if (other !== 'operator-provided') problems.push(`${dir}: a reference to a Secret that is not generated changed to ${other}`);
  }
  return problems;
});

const overlayDirs = fs.existsSync(path.join(k8sDir, 'overlays'))
  ? fs.readdirSync(path.join(k8sDir, 'overlays')).filter((d) => fs.existsSync(path.join(k8sDir, 'overlays', d, 'kustomization.yaml'))).sort()
  : [];
await test('overlays dev, ha and prod exist, and no other unchecked overlay', () => {
  const known = Object.keys(OVERLAYS).sort();
  return JSON.stringify(overlayDirs) === JSON.stringify(known) ? [] : [`found overlays ${overlayDirs.join(', ')}; expected ${known.join(', ')}`];
});

for (const part of ['base', 'redis']) {
  await test(`${part}/ renders on its own${crossCheck ? ' (same as kubectl kustomize)' : ''}`, () => render(path.join(k8sDir, part)).problems);
}

for (const name of overlayDirs) {
  const overlay = OVERLAYS[name] ?? { externalSecrets: [] };
  let objects = null;
  await test(`${name}: renders${crossCheck ? ' (same as kubectl kustomize)' : ''}`, () => {
    const result = render(path.join(k8sDir, 'overlays', name));
    objects = result.objects;
    rendered[name] = objects;
    return objects.length ? result.problems : [...result.problems, 'rendered nothing'];
  });
  if (!objects) continue;
  await test(`${name}: all ${objects.length} objects validate against the Kubernetes schemas`, () => schemaProblems(objects));
  await test(`${name}: Namespace enforces the restricted Pod Security Standard`, () => checkNamespace(objects));
  await test(`${name}: app.kubernetes.io labels, version = image tag`, () => checkLabels(objects));
  await test(`${name}: every pod meets restricted PSS, read-only root, limits, own ServiceAccount`, () => checkPodSecurity(objects));
  await test(`${name}: Deployments have gRPC probes, drain on shutdown, roll safely, HPA, PDB, Service`, () => checkServiceDeployments(objects));
  await test(`${name}: ConfigMap and Secret references resolve`, () => checkReferences(objects, overlay));
  await test(`${name}: NetworkPolicies: default deny, every pod covered, no open rules`, () => checkNetworkPolicies(objects));
  await test(`${name}: NetworkPolicies allow exactly the suite's flows`, () => checkFlows(objects, expectedFlows(objects, overlay)));
  if (overlay.redis === 'in-cluster') {
    await test(`${name}: Redis has AOF, a volume, per-service ACL users matching the services' credentials`, () => checkRedis(objects));
  }
  if (overlay.redis === 'sentinel') {
    // The ACL file and the credentials are the operator's: checked with the
    // test credentials of fixtures/redis-sentinel below.
    await test(`${name}: Redis has AOF, a volume, appendfsync from the ConfigMap`, () => checkRedis(objects, overlay));
    await test(`${name}: 3 Redis pods and 3 Sentinels, one per node, PDBs, quorum 2, services on redis+sentinel:// with a replica confirming each write`, () => checkSentinel(objects));
  }
}

// The ha overlay with test credentials for the Secrets its operator
// creates: the ACL file against every login, then (below) the rendered
// Redis and Sentinel pods for real.
const sentinelFixtureDir = path.join(here, 'fixtures', 'redis-sentinel');
const sentinelFixtureOptions = { externalSecrets: SERVICES.map((s) => `accord-${s}-api`), redis: 'sentinel' };
let sentinelFixture = null;
if (rendered.ha) {
  await test(`ha with test credentials (fixtures/redis-sentinel) renders${crossCheck ? ' (same as kubectl kustomize)' : ''}`, () => {
    const result = render(sentinelFixtureDir);
    sentinelFixture = result.objects;
    return result.problems;
  });
}
if (sentinelFixture) {
  await test('ha with test credentials: the Secrets validate, references resolve, all rules hold', async () => [
    ...(await schemaProblems(ofKind(sentinelFixture, 'Secret'))),
    ...lintAll(sentinelFixture, { ...sentinelFixtureOptions, flows: expectedFlows(sentinelFixture, OVERLAYS.ha) }),
  ]);
  await test('ha with test credentials: ACL users for the services (+role +incr +wait), replication and Sentinel match every login', () => {
    const problems = checkRedis(sentinelFixture, sentinelFixtureOptions);
    // The services' users are dev's (explained in deploy/README.md) plus
    // what Sentinel and replica confirmation make them send.
    const aclOf = (objects) => {
      const s = ofKind(objects, 'Secret').find((x) => x.metadata.name.startsWith('accord-redis-acl'));
      return parseAcl(secretData(s, 'users.acl') ?? '');
    };
    const devUsers = aclOf(rendered.dev ?? []);
    const haUsers = aclOf(sentinelFixture);
    const grants = (u) => (u?.rules ?? []).filter((r) => !/^[#>]/.test(r));
    for (const s of SERVICES) {
      const user = `accord-${s}`;
      const dev = grants(devUsers[user]);
      const ha = grants(haUsers[user]);
      const extra = ha.filter((r) => !dev.includes(r)).sort();
      const missing = dev.filter((r) => !ha.includes(r));
      const want = ['+incr', '+role', '+wait'].filter((r) => !dev.includes(r));
      if (missing.length || extra.join(' ') !== want.join(' ')) {
        problems.push(`fixtures/redis-sentinel/users.acl ${user}: expected dev's rules plus ${want.join(' ')}; missing ${missing.join(' ') || 'nothing'}, extra ${extra.join(' ') || 'nothing'}`);
      }
    }
    return problems;
  });
}

// The production overlays deploy the version the binaries report
// (accord_build_info) and the client packages carry: clients/VERSION, the
// one place the top CMakeLists.txt reads it from.
for (const name of ['prod', 'ha'].filter((n) => rendered[n])) {
  await test(`${name}: every Accord image is tagged with the suite version (clients/VERSION)`, () => {
    const version = fs.readFileSync(path.join(repo, 'clients', 'VERSION'), 'utf8').trim();
    const problems = [];
    for (const o of rendered[name]) {
      for (const c of o.spec?.template?.spec?.containers ?? []) {
        const match = /\/?(accord-[a-z]+):([^@]+)$/.exec(c.image ?? '');
        if (match && match[2] !== version) problems.push(`${id(o)}: ${c.image} is not tagged ${version}`);
      }
    }
    return problems;
  });
}

// --- monitoring (opt-in: the Prometheus Operator's CRDs) ------------------------

// What is wrong with `monitoring`'s ServiceMonitors against an overlay's
// objects: they must select exactly the three services' Services, on a
// port of each that reaches the container port the binary serves /metrics
// on (ACCORD_METRICS_LISTEN).
function serviceMonitorProblems(monitoring, objects) {
  const problems = [];
  const monitors = ofKind(monitoring, 'ServiceMonitor');
  if (monitors.length !== 1) return [`expected one ServiceMonitor, found ${monitors.length}`];
  const sm = monitors[0];
  const selected = ofKind(objects, 'Service').filter((svc) => selectorMatches(sm.spec.selector, svc.metadata.labels));
  const want = SERVICES.map((s) => `accord-${s}`).sort();
  const got = selected.map((svc) => svc.metadata.name).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) problems.push(`${id(sm)} selects Services ${got.join(', ') || '(none)'}; expected ${want.join(', ')}`);
  if (!(sm.spec.endpoints ?? []).length) problems.push(`${id(sm)} has no endpoints`);
  for (const endpoint of sm.spec.endpoints ?? []) {
    if ((endpoint.path ?? '/metrics') !== '/metrics') problems.push(`${id(sm)}: path ${endpoint.path} is not /metrics`);
    for (const svc of selected) {
      const port = (svc.spec.ports ?? []).find((p) => p.name === endpoint.port);
      if (!port) {
        problems.push(`${id(sm)}: Service ${svc.metadata.name} has no port named ${endpoint.port}`);
        continue;
      }
      const d = ofKind(objects, 'Deployment').find((x) => mapSelectorMatches(svc.spec.selector, podTemplate(x).metadata.labels));
      const c = d && podTemplate(d).spec.containers[0];
      const containerPort = c && (typeof port.targetPort === 'number'
        ? port.targetPort : c.ports?.find((p) => p.name === (port.targetPort ?? port.port))?.containerPort);
      const listen = c && containerEnv(c, objects).ACCORD_METRICS_LISTEN;
      if (typeof listen !== 'string' || Number(listen.split(':').pop()) !== containerPort) {
        problems.push(`${id(sm)}: ${svc.metadata.name}:${endpoint.port} reaches container port ${containerPort}, but ACCORD_METRICS_LISTEN is ${listen}`);
      }
    }
  }
  return problems;
}

const monitoringDir = path.join(k8sDir, 'monitoring');
let monitoring = null;
if (fs.existsSync(monitoringDir)) {
  await test(`monitoring/ renders${crossCheck ? ' (same as kubectl kustomize)' : ''}`, () => {
    const result = render(monitoringDir);
    monitoring = result.objects;
    return result.problems;
  });
}
if (monitoring) {
  await test(`monitoring: all ${monitoring.length} objects validate against their schemas (Prometheus Operator CRDs included)`, () => schemaProblems(monitoring));
  await test('monitoring: app.kubernetes.io labels', () => checkLabels(monitoring));
  await test('monitoring: a ServiceMonitor, a PrometheusRule and the dashboard ConfigMap, in the namespace of prod', () => {
    const problems = [];
    const kinds = monitoring.map((o) => o.kind).sort().join(',');
    if (kinds !== 'ConfigMap,PrometheusRule,ServiceMonitor') problems.push(`rendered ${kinds}`);
    const namespace = ofKind(rendered.prod ?? [], 'Namespace')[0]?.metadata.name;
    for (const o of monitoring) {
      if (o.metadata.namespace !== namespace) problems.push(`${id(o)} is in namespace ${o.metadata.namespace}, prod in ${namespace}`);
    }
    const dashboard = ofKind(monitoring, 'ConfigMap').find((cm) => cm.metadata.labels?.grafana_dashboard === '1');
    const file = fs.readFileSync(path.join(monitoringDir, 'dashboards', 'accord.json'), 'utf8');
    if (!dashboard) problems.push('no ConfigMap labelled grafana_dashboard=1');
    else if (dashboard.data?.['accord.json'] !== file) problems.push(`${id(dashboard)} does not carry dashboards/accord.json`);
    return problems;
  });
  for (const name of overlayDirs.filter((n) => rendered[n])) {
    await test(`monitoring: the ServiceMonitor scrapes each ${name} service's /metrics port`, () => serviceMonitorProblems(monitoring, rendered[name]));
  }
  await test('self-test: flags a ServiceMonitor on a port the Services lack, and one selecting Redis too', () => {
    const problems = [];
    const wrongPort = serviceMonitorProblems(mutate(monitoring, (o) => { ofKind(o, 'ServiceMonitor')[0].spec.endpoints[0].port = 'http'; }), rendered.dev ?? []);
    if (!wrongPort.some((p) => /has no port named http/.test(p))) problems.push(`wrong port not flagged: ${wrongPort.join('; ')}`);
    const tooMany = serviceMonitorProblems(mutate(monitoring, (o) => { ofKind(o, 'ServiceMonitor')[0].spec.selector = {}; }), rendered.dev ?? []);
    if (!tooMany.some((p) => /selects Services .*accord-redis/.test(p))) problems.push(`selecting Redis not flagged: ${tooMany.join('; ')}`);
    return problems;
  });
}

// --- Dockerfile ----------------------------------------------------------------

const dockerDir = path.join(repo, 'deploy', 'docker');
const dockerfileText = fs.existsSync(path.join(dockerDir, 'Dockerfile')) ? fs.readFileSync(path.join(dockerDir, 'Dockerfile'), 'utf8') : '';
const dockerignoreText = fs.existsSync(path.join(dockerDir, 'Dockerfile.dockerignore'))
  ? fs.readFileSync(path.join(dockerDir, 'Dockerfile.dockerignore'), 'utf8') : undefined;
const grpcPorts = {};
for (const d of ofKind(rendered.dev ?? [], 'Deployment')) {
  grpcPorts[podTemplate(d).spec.containers[0].name] = podTemplate(d).spec.containers[0].ports.find((p) => p.name === 'grpc')?.containerPort;
}
let dockerModel = null;
await test('Dockerfile: multi-stage on Debian 12, slim runtime, numeric non-root USER, exec ENTRYPOINT', () => {
  if (!dockerfileText) return ['deploy/docker/Dockerfile is missing'];
  const { problems, model } = lintDockerfile(dockerfileText, { grpcPorts, dockerignore: dockerignoreText });
  dockerModel = model;
  return problems;
});

// The runtime packages must provide every shared library the built
// binaries load (ldd), directly or through their dependencies.
await test('Dockerfile: runtime packages provide every library the built binaries link', () => {
  if (!dockerModel) return ['no Dockerfile model'];
  const problems = [];
  // One dpkg call per level: per-package calls take a minute.
  const dependsOf = (packages) => {
    const r = spawnSync('dpkg-query', ['-W', '-f=${Package}\t${Depends},${Pre-Depends}\n', ...packages], { encoding: 'utf8' });
    const out = new Map();
    for (const line of r.stdout.split('\n').filter(Boolean)) {
      const [pkg, deps] = line.split('\t');
      out.set(pkg, deps.split(/[,|]/).map((d) => d.trim().split(/[\s:(]/)[0]).filter(Boolean));
    }
    return out;
  };
  // In debian:12-slim already (essential, or needed by apt).
  const closure = new Set(['libc6', 'libgcc-s1', 'libstdc++6', 'zlib1g']);
  let level = [...new Set(SERVICES.flatMap((s) => runtimePackages(dockerModel, s)))];
  while (level.length) {
    for (const p of level) closure.add(p);
    const deps = dependsOf(level);
    for (const p of level) {
      if (!deps.has(p)) problems.push(`dpkg does not know ${p} (scripts/install-deps.sh installs it with its -dev package)`);
    }
    level = [...new Set([...deps.values()].flat())].filter((d) => !closure.has(d));
  }
  const needs = new Map();  // library path -> binaries
  for (const service of SERVICES) {
    const binary = path.join(binDir, `accord-${service}`);
    if (!fs.existsSync(binary)) {
      problems.push(`${binary} is not built (build first, or pass --bin-dir)`);
      continue;
    }
    const ldd = spawnSync('ldd', [binary], { encoding: 'utf8' });
    if (ldd.status !== 0) {
      problems.push(`ldd ${binary} failed: ${ldd.stderr}`);
      continue;
    }
    for (const m of ldd.stdout.matchAll(/=>\s+(\/\S+)/g)) {
      if (!needs.has(m[1])) needs.set(m[1], []);
      needs.get(m[1]).push(`accord-${service}`);
    }
    if (/not found/.test(ldd.stdout)) problems.push(`accord-${service}: ldd reports a missing library here`);
  }
  // Merged /usr: dpkg may list a library under /lib or /usr/lib.
  const candidates = (lib) => [...new Set([lib, fs.realpathSync(lib)].flatMap((p) => [p, p.replace(/^\/lib\//, '/usr/lib/'), p.replace(/^\/usr\/lib\//, '/lib/')]))];
  const owners = new Map();
  const search = spawnSync('dpkg', ['-S', ...[...needs.keys()].flatMap(candidates)], { encoding: 'utf8' });
  for (const line of search.stdout.split('\n')) {
    const m = /^([^:]+)(?::\w+)?: (\/\S+)$/.exec(line);
    if (m) owners.set(m[2], m[1].split(',')[0].trim());
  }
  for (const [lib, users] of needs) {
    const owner = candidates(lib).map((c) => owners.get(c)).find(Boolean);
    if (!owner) problems.push(`${users.join(', ')}: no package owns ${lib}`);
    else if (!closure.has(owner)) problems.push(`${users.join(', ')}: needs ${lib} from ${owner}, which the runtime image does not install`);
  }
  return problems;
});

// --- live Redis and services -----------------------------------------------------

const dev = rendered.dev;
let redis = null;
const devPasswords = {};
if (dev) {
  const sts = ofKind(dev, 'StatefulSet').find((s) => s.metadata.labels['app.kubernetes.io/name'] === 'redis');
  await test('dev Redis starts from the rendered redis.conf, appendfsync and users.acl', async () => {
    if (!sts) return ['no Redis StatefulSet in dev'];
    const spec = podTemplate(sts).spec;
    const conf = find(dev, 'ConfigMap', spec.volumes.find((v) => v.configMap).configMap.name).data['redis.conf'];
    const c = spec.containers[0];
    const fsyncEnv = containerEnv(c, dev);
    const fsyncArg = c.args[c.args.indexOf('--appendfsync') + 1].replace(/^\$\((\w+)\)$/, (_, v) => fsyncEnv[v]);
    const aclSecret = find(dev, 'Secret', spec.volumes.find((v) => v.name === 'acl').secret.secretName);
    const acl = secretData(aclSecret, 'users.acl');
    redis = await startRedis({ conf, acl, appendfsync: fsyncArg });
    const client = await RespClient.connect(redis.port);
    await client.command('AUTH', 'healthcheck', 'healthcheck');
    const fsync = await client.command('PING');
    client.close();
    return fsync === 'PONG' ? [] : [`healthcheck PING answered ${fsync}`];
  });
  for (const d of ofKind(dev, 'Deployment')) {
    const ref = containerEnv(podTemplate(d).spec.containers[0], dev).ACCORD_REDIS;
    const url = secretData(find(dev, 'Secret', ref.secret), ref.key);
    const m = /^redis:\/\/([^:]+):(.+)@/.exec(url);
    devPasswords[m[1]] = m[2];
  }
}

async function asUser(user, password) {
  const client = await RespClient.connect(redis.port);
  const auth = await client.command('AUTH', user, password);
  if (auth instanceof RedisError) throw new Error(`AUTH ${user}: ${auth.message}`);
  return client;
}

// [command..., expect] where expect is 'ok' (any non-error) or 'denied'.
// `library` is the write path's Function library, `notifications` the
// notification service's (common/redis/lua/{write,notification}.lua).
function aclMatrix(user, library, notifications) {
  const k = `accord:deploytest:${user}`;
  const writer = [
    ['PING'], ['SELECT', '0'],
    ['FUNCTION', 'LOAD', 'REPLACE', library.code],
    ['SET', `${k}:secret`, 'x', 'NX'], ['GET', `${k}:secret`], ['EXISTS', `${k}:r`],
    // The write path: idempotency, checks, writes, event append + publish.
    // KEYS: the event stream, the request key, each check's, each write's.
    ['FCALL', library.name, '6', 'accord:events', `accord:request:${k}`,
      `${k}:r`, `${k}:r0`, `${k}:r0`, `${k}:children`,
      '1', '60', '4', 'absent', '', 'etag', 'e', 'live', '', 'empty', '',
      '0', '', '', 'result'],
    ['FCALL', library.name, '9', 'accord:events', `accord:request:${k}:2`,
      `${k}:r`, `${k}:r`, `${k}:index`, `${k}:children`, `${k}:children`, `${k}:index`, `${k}:search`,
      '1', '60', '1', 'absent', '',
      '6',
      'HSET', '1', '6', 'data', 'd', 'etag', 'e', 'deleted', '0',
      'ZADD', '1', '2', '0', 'deploytest/1',
      'SADD', '1', '1', 'deploytest/1',
      'SREM', '1', '1', 'deploytest/1',
      'ZREM', '1', '1', 'deploytest/1',
      'HDEL', '1', '1', 'deploytest/1',
      'accord.deploytest.v1.created', 'event-bytes', 'result'],
    ['HGETALL', `${k}:r`], ['HMGET', `${k}:r`, 'data', 'etag'], ['HGET', `${k}:r`, 'etag'],
    ['HSET', `${k}:h`, 'f', 'v'], ['HDEL', `${k}:h`, 'f'],
    ['ZADD', `${k}:z`, '0', 'a'], ['ZRANGEBYLEX', `${k}:z`, '-', '+'], ['ZREM', `${k}:z`, 'a'],
    ['SADD', `${k}:s`, 'a'], ['SCARD', `${k}:s`], ['SREM', `${k}:s`, 'a'],
    ['EXPIRE', `${k}:h`, '60'], ['PUBLISH', 'accord:events:accord.deploytest.v1.created', 'x'],
    // ListAuditRecords, served by every binary.
    ['XREVRANGE', 'accord:audit', '+', '-', 'COUNT', '1'],
    // Anyone may load a library; what its functions run is checked per
    // user (the notification functions below).
    ['FUNCTION', 'LOAD', 'REPLACE', notifications.code],
    ['XADD', `${k}:stream`, '1-1', 'f', 'v'], ['XADD', `${k}:stream`, '1-2', 'f', 'v'],
  ].map((cmd) => [...cmd, 'ok']);
  const consumer = [
    ['XLEN', 'accord:events'], ['XRANGE', 'accord:events', '-', '+', 'COUNT', '1'],
    ['XREAD', 'COUNT', '1', 'STREAMS', 'accord:events', '0'],
    ['XGROUP', 'CREATE', 'accord:events', `${user}-g`, '0', 'MKSTREAM'],
    ['XGROUP', 'CREATECONSUMER', 'accord:events', `${user}-g`, 'c1'],
    ['XREADGROUP', 'GROUP', `${user}-g`, 'c1', 'COUNT', '1', 'STREAMS', 'accord:events', '>'],
    ['XAUTOCLAIM', 'accord:events', `${user}-g`, 'c2', '0', '0-0', 'COUNT', '1'],
    ['XACK', 'accord:events', `${user}-g`, '0-1'],
    ['XINFO', 'STREAM', 'accord:events'], ['XINFO', 'GROUPS', 'accord:events'], ['XINFO', 'CONSUMERS', 'accord:events', `${user}-g`],
    ['XGROUP', 'DELCONSUMER', 'accord:events', `${user}-g`, 'c2'],
    ['XTRIM', 'accord:events', 'MAXLEN', '~', '1000000'],
    ['XPENDING', 'accord:events', `${user}-g`],
    // Stream reads consistent with the trim mark.
    ['MULTI'], ['XLEN', 'accord:events'], ['EXEC'],
    // Subscriptions: version counter, per-owner cap.
    ['INCR', `${k}:version`], ['SISMEMBER', `${k}:s`, 'a'],
    // Deliveries: due set, per-subscription index, expiry.
    ['ZRANGEBYSCORE', `${k}:due`, '-inf', '+inf', 'LIMIT', '0', '1'], ['ZSCORE', `${k}:due`, 'a'],
    ['PEXPIRE', `${k}:h`, '60000'], ['PERSIST', `${k}:h`],
    // The notification functions (FCALL, never EVAL).
    ['FCALL', notifications.fn('accord_record_delivery'), '3', `${k}:delivery`, `${k}:deliveries`, `${k}:due`,
      'delivery', 'event', '60000', '1-1', '0', 'subscriptions/x/deliveries/1-1'],
    ['FCALL', notifications.fn('accord_claim_delivery'), '1', `${k}:due`, 'subscriptions/x/deliveries/1-1', '1', '2'],
    ['FCALL', notifications.fn('accord_trim_events'), '2', `${k}:stream`, `${k}:trimmed`, '1-2'],
  ];
  // Lists: secondary index sizes, walks both ways, membership checks
  // (common/secondary_index.h); the notification service walks its
  // delivery index backwards.
  const lister = [
    ['ZREVRANGEBYLEX', `${k}:z`, '+', '-', 'LIMIT', '0', '1'], ['ZCARD', `${k}:z`],
    ['ZLEXCOUNT', `${k}:z`, '-', '+'], ['ZMSCORE', `${k}:z`, 'a', 'b'],
  ];
  const denied = [
    ['FLUSHALL'], ['FLUSHDB'], ['CONFIG', 'GET', 'maxmemory'], ['KEYS', '*'], ['SCAN', '0'], ['SWAPDB', '0', '1'],
    ['ACL', 'LIST'], ['EVAL', 'return 1', '0'], ['EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '0'],
    ['SCRIPT', 'LOAD', 'return 1'], ['SCRIPT', 'FLUSH'], ['FUNCTION', 'FLUSH'], ['FUNCTION', 'DELETE', library.library],
    ['FUNCTION', 'DELETE', notifications.library],
    ['CLIENT', 'LIST'], ['MODULE', 'LIST'], ['BGSAVE'], ['BGREWRITEAOF'], ['REPLICAOF', 'NO', 'ONE'], ['DEL', `${k}:r`],
    ['GET', 'other:key'], ['SET', 'other:key', 'x'], ['HGETALL', 'other:hash'], ['PUBLISH', 'other-channel', 'x'],
    ['PUBLISH', 'accord:other', 'x'],
  ].map((cmd) => [...cmd, 'denied']);
  if (user === 'accord-notification') {
    return [...writer, ...consumer.map((c) => [...c, 'ok']), ...denied,
      [...lister[0], 'ok'], [...lister[1], 'ok'],
      ['SUBSCRIBE', 'other-channel', 'denied'], ['PSUBSCRIBE', '*', 'denied']];
  }
  if (user === 'accord-agreement') {
    // Its institution cache follows institution and official events
    // (PSUBSCRIBE, checked on fresh connections below), nothing else.
    return [...writer, ...denied, ...consumer.map((c) => [...c, 'denied']),
      ...lister.map((c) => [...c, 'ok']),
      ['SUBSCRIBE', 'accord:events:x', 'denied'], ['PSUBSCRIBE', 'accord:other*', 'denied'],
      ['PSUBSCRIBE', 'accord:events:accord.agreement.v1.*', 'denied']];
  }
  return [...writer, ...denied, ...consumer.map((c) => [...c, 'denied']),
    ...lister.map((c) => [...c, 'ok']),
    ['SUBSCRIBE', 'accord:events:x', 'denied'], ['PSUBSCRIBE', 'accord:events:*', 'denied']];
}

function isDenied(reply) {
  // A command refused inside a function: "The user executing the script
  // can't run this command".
  return reply instanceof RedisError && /NOPERM|no permissions|can't run this command/i.test(reply.message);
}

if (redis) {
  const lua = path.join(repo, 'common', 'redis', 'lua');
  const library = luaLibrary(path.join(lua, 'write.lua'), 'accord_write');
  const notifications = luaLibrary(path.join(lua, 'notification.lua'), 'accord_notification');
  for (const [user, password] of Object.entries(devPasswords)) {
    await test(`Redis ACL: ${user} may run what it needs and nothing else`, async () => {
      const problems = [];
      const client = await asUser(user, password);
      try {
        for (const entry of aclMatrix(user, library, notifications)) {
          const cmd = entry.slice(0, -1);
          const expect = entry[entry.length - 1];
          const reply = await client.command(...cmd);
          const shown = cmd.map((a) => (a.length > 40 ? `${a.slice(0, 20)}...` : a)).join(' ');
          if (expect === 'denied' && !isDenied(reply)) problems.push(`${shown}: expected NOPERM, got ${reply instanceof RedisError ? reply.message : JSON.stringify(reply)}`);
          if (expect === 'ok' && reply instanceof RedisError) problems.push(`${shown}: ${reply.message}`);
          if (expect === 'ok' && cmd[0] === 'FCALL' && cmd[1] === library.name && !(Array.isArray(reply) && ['ok', 'fail', 'replay'].includes(reply[0]))) {
            problems.push(`${shown}: unexpected reply ${JSON.stringify(reply)}`);
          }
        }
      } finally {
        client.close();
      }
      const subscriptions = {
        'accord-notification': [['PSUBSCRIBE', 'accord:events:*'], ['SUBSCRIBE', 'accord:events:accord.deploytest.v1.created']],
        // Exactly what services/agreement/reference_cache.cc subscribes to.
        'accord-agreement': [['PSUBSCRIBE', 'accord:events:accord.institution.v1.*'], ['PSUBSCRIBE', 'accord:events:accord.official.v1.*']],
      }[user];
      if (subscriptions) {
        // Subscriptions switch the connection's mode: one per check.
        for (const [cmd, channel] of subscriptions) {
          const c = await asUser(user, password);
          const reply = await c.command(cmd, channel);
          c.close();
          if (reply instanceof RedisError) problems.push(`${cmd} ${channel}: ${reply.message}`);
        }
      }
      return problems;
    });
  }
  await test('Redis ACL: the default user is off and healthcheck may only PING', async () => {
    const problems = [];
    const anon = await RespClient.connect(redis.port);
    const ping = await anon.command('PING');
    if (!(ping instanceof RedisError && /NOAUTH/.test(ping.message))) problems.push(`unauthenticated PING answered ${JSON.stringify(ping)}`);
    const auth = await anon.command('AUTH', 'default', '');
    if (!(auth instanceof RedisError)) problems.push('AUTH default succeeded');
    anon.close();
    const health = await asUser('healthcheck', 'anything');
    for (const cmd of [['GET', 'accord:x'], ['INFO'], ['FUNCTION', 'LOAD', 'x']]) {
      const reply = await health.command(...cmd);
      if (!isDenied(reply)) problems.push(`healthcheck ${cmd.join(' ')}: expected NOPERM`);
    }
    health.close();
    return problems;
  });

  // Each overlay's settings, given to the real binaries: they must parse,
  // reach Redis as their ACL user, report ready and stop cleanly on SIGTERM.
  for (const [name, objects] of Object.entries(rendered)) {
    await test(`${name}: services start with the rendered environment, get ready, exit 0 on SIGTERM`, async () => {
      const problems = [];
      const running = [];
      try {
        const deployments = ofKind(objects, 'Deployment').sort((a) => (a.metadata.name === 'accord-institution' ? -1 : 1));
        for (const d of deployments) {
          const c = podTemplate(d).spec.containers[0];
          const binary = path.join(binDir, `accord-${c.name}`);
          if (!fs.existsSync(binary)) {
            problems.push(`${binary} is not built`);
            continue;
          }
          const env = { PATH: process.env.PATH };
          // Secret volumes become files in a temporary folder, and settings
          // that point into a mount point there instead.
          const mounts = secretMounts(podTemplate(d).spec, c, objects);
          for (const [k, v] of Object.entries(containerEnv(c, objects))) {
            if (typeof v !== 'string') continue;
            env[k] = v;
            for (const [mountPath, dir] of mounts) {
              if (v.startsWith(mountPath + '/')) env[k] = dir + v.slice(mountPath.length);
            }
          }
          // Every overlay's services log in to the dev Redis started above,
          // as their ACL user (ha's redis+sentinel:// URLs are followed by
          // the services in tests/faults/replica_ack_test.cc, and the ha
          // pods are run by the Sentinel test below).
          const user = `accord-${c.name}`;
          env.ACCORD_REDIS = `redis://${user}:${devPasswords[user]}@127.0.0.1:${redis.port}/0`;
          if (env.ACCORD_REDIS_PASSWORD_FILE) {
            // ha: the password is read from the mounted Secret; here the
            // dev one.
            if (!mounts.some(([, dir]) => env.ACCORD_REDIS_PASSWORD_FILE.startsWith(`${dir}/`))) {
              problems.push(`${id(d)}: ACCORD_REDIS_PASSWORD_FILE ${env.ACCORD_REDIS_PASSWORD_FILE} is not in a mounted Secret`);
              continue;
            }
            fs.writeFileSync(env.ACCORD_REDIS_PASSWORD_FILE, devPasswords[user]);
          }
          env.ACCORD_LISTEN = '127.0.0.1:0';
          env.ACCORD_METRICS_LISTEN = '127.0.0.1:0';
          const institution = running.find((r) => r.name === 'institution');
          if (env.ACCORD_INSTITUTION_TARGET && institution?.proc.address) env.ACCORD_INSTITUTION_TARGET = institution.proc.address;
          const proc = startService(binary, env);
          // What the kubelet allows after the preStop hook, before SIGKILL.
          const spec = podTemplate(d).spec;
          const budget = (spec.terminationGracePeriodSeconds ?? 30) - (c.lifecycle?.preStop?.sleep?.seconds ?? 0);
          running.push({ name: c.name, proc, budget });
          if (!(await waitReady(proc, 15000))) {
            problems.push(`${id(d)} did not become ready:\n${proc.log.split('\n').slice(-6).join('\n')}`);
          }
        }
      } finally {
        for (const r of running) {
          const result = await terminate(r.proc, r.budget * 1000);
          if (result === 'timeout') problems.push(`accord-${r.name} did not exit within the ${r.budget}s left after preStop`);
          else if (result.code !== 0) problems.push(`accord-${r.name} exited with ${result.code ?? result.signal} on SIGTERM`);
        }
      }
      return problems;
    });
  }
  await redis.stop();
}

// --- Redis with Sentinel, for real ---------------------------------------------------

// The ha overlay's Redis and Sentinel pods (with the test credentials) run
// as local processes from the rendered manifests: their init containers'
// scripts, configurations, ACL file and probes (lib/pods.mjs). They must
// come up as pod 0 primary with two replicas in sync; each service's user,
// going through a Sentinel as the services do, must find the primary, pass
// ROLE, write and have the write confirmed by a replica (INCR on the fence
// key, WAIT: common/write_path.cc); the service binaries, with the rendered
// environment (their redis+sentinel:// URL pointed at the local Sentinels,
// the password from the Secret's file), must get ready; after the primary
// is killed the Sentinels must promote a replica that has those writes and
// the services must be ready again, connected to it; the old primary,
// restarted on its volume, must rejoin as a replica; a Sentinel restarted
// with an empty emptyDir must learn the new primary from its peers; and no
// user (replication, Sentinel, services) may have been refused a command.
async function sentinelScenario(objects) {
  const problems = [];
  const redisSts = redisStatefulSet(objects);
  const sentinelSts = sentinelStatefulSet(objects);
  const pods = await LocalPods.create(objects, [redisSts.metadata.name, sentinelSts.metadata.name], {
    // Shorter than in a cluster; what happens when they run out is the same.
    env: { SENTINEL_WAIT: '3', BOOT_WAIT: '20' },
  });
  const redisPods = pods.all(redisSts.metadata.name);
  const sentinels = pods.all(sentinelSts.metadata.name);
  const sentinelInit = podTemplate(sentinelSts).spec.initContainers[0];
  const { CONF: sentinelConf, MASTER_NAME: masterName } = containerEnv(sentinelInit, objects);
  const redisConf = find(objects, 'ConfigMap', podTemplate(redisSts).spec.volumes.find((v) => v.configMap).configMap.name).data['redis.conf'];
  const aclPath = /^\s*aclfile\s+(\S+)/m.exec(redisConf)[1];
  // A test-only user that may read ACL LOG.
  const admin = { user: 'accord-test-admin', password: crypto.randomBytes(12).toString('hex') };
  const start = (pod) => pods.start(pod, {
    extraArgs: ['--port', String(pod.port), '--bind', '127.0.0.1', ...(pod.sts === redisSts ? ['--save', ''] : [])],
    beforeMain: (p) => fs.appendFileSync(p.sts === redisSts ? pods.localPath(p, aclPath) : pods.localPath(p, sentinelConf),
      `\nuser ${admin.user} on >${admin.password} ${p.sts === redisSts ? '~* &* ' : ''}+@all\n`),
  });
  const connect = async (port, user, password) => {
    const c = await RespClient.connect(port);
    if (user) {
      const auth = await c.command('AUTH', user, password);
      if (auth instanceof RedisError) {
        c.close();
        throw new Error(`AUTH ${user} on port ${port}: ${auth.message}`);
      }
    }
    return c;
  };
  const once = async (port, login, ...cmd) => {
    const c = await connect(port, login?.user, login?.password);
    try {
      return await c.command(...cmd);
    } finally {
      c.close();
    }
  };
  const local = (p) => `127.0.0.1:${p.port}`;
  const primaryNamedBy = async (s) => {
    const r = await once(s.port, null, 'SENTINEL', 'get-master-addr-by-name', masterName).catch(() => null);
    return Array.isArray(r) ? `${r[0]}:${r[1]}` : null;
  };
  const role = (p) => once(p.port, admin, 'ROLE').catch(() => null);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  // The services' logins, and what they are told to do (as rendered).
  const services = objects.filter((o) => o.kind === 'Deployment' && /^accord-/.test(o.metadata.name)).map((d) => {
    const spec = podTemplate(d).spec;
    const login = serviceRedisLogin(spec, spec.containers[0], objects);
    return {
      ...login,
      sentinels: login.parsed.hosts.map((h) => Number(pods.mapAddresses(h).split(':')[1])),
      acked: Number(login.env.ACCORD_REDIS_MIN_REPLICAS_ACKED),
      ackMs: durationSeconds(login.env.ACCORD_REDIS_REPLICA_ACK_TIMEOUT ?? '1s') * 1000,
    };
  });
  // As common/redis/connect.cc: the first Sentinel that names a primary,
  // then the primary, as the service's user, which must say it is master.
  const asService = async (svc, fn) => {
    let primary = null;
    for (const port of svc.sentinels) {
      const r = await once(port, null, 'SENTINEL', 'get-master-addr-by-name', svc.parsed.masterName).catch(() => null);
      if (Array.isArray(r)) {
        primary = Number(r[1]);
        break;
      }
    }
    if (!primary) throw new Error(`${svc.user}: no Sentinel named the primary`);
    const c = await connect(primary, svc.user, svc.password);
    try {
      const r = await c.command('ROLE');
      if (!Array.isArray(r) || r[0] !== 'master') throw new Error(`${svc.user}: ROLE on ${primary} answered ${r instanceof RedisError ? r.message : JSON.stringify(r)}`);
      return await fn(c);
    } finally {
      c.close();
    }
  };
  // The service binaries as the Deployments run them, on the local pods.
  const running = [];
  const startServices = async () => {
    const deployments = objects.filter((o) => o.kind === 'Deployment' && /^accord-/.test(o.metadata.name))
      .sort((a) => (a.metadata.name === 'accord-institution' ? -1 : 1));
    for (const d of deployments) {
      const spec = podTemplate(d).spec;
      const c = spec.containers[0];
      const binary = path.join(binDir, `accord-${c.name}`);
      if (!fs.existsSync(binary)) {
        problems.push(`${binary} is not built`);
        continue;
      }
      const env = { PATH: process.env.PATH };
      const mounts = secretMounts(spec, c, objects);
      for (const [k, v] of Object.entries(containerEnv(c, objects))) {
        if (typeof v !== 'string') continue;
        env[k] = v;
        for (const [mountPath, dir] of mounts) {
          if (v.startsWith(`${mountPath}/`)) env[k] = dir + v.slice(mountPath.length);
        }
      }
      env.ACCORD_REDIS = pods.mapAddresses(env.ACCORD_REDIS);
      env.ACCORD_LISTEN = '127.0.0.1:0';
      env.ACCORD_METRICS_LISTEN = '127.0.0.1:0';
      const institution = running.find((r) => r.name === 'institution');
      if (env.ACCORD_INSTITUTION_TARGET && institution?.proc.address) env.ACCORD_INSTITUTION_TARGET = institution.proc.address;
      const proc = startService(binary, env);
      running.push({ name: c.name, user: `accord-${c.name}`, proc });
      if (!(await waitReady(proc, 20000))) problems.push(`${id(d)} did not get ready through the Sentinels:\n${proc.log.split('\n').slice(-6).join('\n')}`);
    }
  };
  // The users connected to a Redis pod now.
  const clientsOf = async (p) => {
    const list = await once(p.port, admin, 'CLIENT', 'LIST').catch(() => '');
    return new Set([...String(list).matchAll(/\buser=(\S+)/g)].map((m) => m[1]));
  };
  const aclRefusals = async (p) => {
    const log = await once(p.port, admin, 'ACL', 'LOG');
    return (Array.isArray(log) ? log : []).map((entry) => {
      const e = {};
      for (let i = 0; i + 1 < entry.length; i += 2) e[entry[i]] = entry[i + 1];
      return `${p.name}: ACL refused ${e.username} ${e.reason} ${e.object} (${e.context})`;
    });
  };
  const fence = 'accord:replication:fence';  // common/redis/keys.h
  const confirmed = async (c, svc) => {
    await c.command('INCR', fence);
    const n = await c.command('WAIT', String(svc.acked), String(svc.ackMs));
    return typeof n === 'number' && n >= svc.acked ? null : `WAIT ${svc.acked} answered ${n instanceof RedisError ? n.message : n}`;
  };
  try {
    // First boot: everything at once, as a fresh StatefulSet pair would.
    const bootAt = Date.now();
    await Promise.all(pods.all().map(start));
    let late = await pods.waitReady(pods.all(), 60000);
    if (late.length) return [`not ready after 60s: ${late.map((p) => p.name).join(', ')}`];
    console.log(`note ha: first boot ready after ${((Date.now() - bootAt) / 1000).toFixed(1)}s`);
    const r0 = await role(redisPods[0]);
    if (r0?.[0] !== 'master') problems.push(`first boot: ${redisPods[0].name} is ${JSON.stringify(r0)}, not the primary`);
    for (const p of redisPods.slice(1)) {
      const r = await role(p);
      if (!(r?.[0] === 'slave' && `${r[1]}:${r[2]}` === local(redisPods[0]) && r[3] === 'connected')) problems.push(`first boot: ${p.name} is ${JSON.stringify(r)}, not a replica of ${redisPods[0].name} in sync`);
    }
    for (const s of sentinels) {
      const named = await primaryNamedBy(s);
      if (named !== local(redisPods[0])) problems.push(`first boot: ${s.name} names ${named} as the primary`);
    }
    for (const svc of services) {
      const problem = await asService(svc, async (c) => {
        const set = await c.command('SET', `accord:deploytest:ha:${svc.user}`, 'confirmed');
        if (set instanceof RedisError) return `SET: ${set.message}`;
        return confirmed(c, svc);
      }).catch((e) => e.message);
      if (problem) problems.push(`${svc.user}, before the failover: ${problem}`);
    }
    if (problems.length) return problems;
    await startServices();
    if (problems.length) return problems;
    // What the primary refused so far (its log dies with it).
    problems.push(...(await aclRefusals(redisPods[0])));

    // The primary dies (no shutdown: a node lost).
    const old = redisPods[0];
    const killedAt = Date.now();
    await pods.kill(old, 'SIGKILL');
    let promoted = null;
    while (!promoted && Date.now() - killedAt < 30000) {
      const named = await Promise.all(sentinels.map(primaryNamedBy));
      const candidate = redisPods.find((p) => p !== old && named.every((n) => n === local(p)));
      if (candidate && (await role(candidate))?.[0] === 'master') promoted = candidate;
      else await sleep(100);
    }
    if (!promoted) return [`30s after the primary was killed the Sentinels had promoted no replica: ${(await Promise.all(sentinels.map(primaryNamedBy))).join(', ')}`];
    console.log(`note ha: ${((Date.now() - killedAt) / 1000).toFixed(1)}s from killing the primary until every Sentinel named ${promoted.name}, promoted`);
    for (const svc of services) {
      const problem = await asService(svc, async (c) => {
        const value = await c.command('GET', `accord:deploytest:ha:${svc.user}`);
        if (value !== 'confirmed') return `a write confirmed before the failover reads ${JSON.stringify(value)}`;
        // The other replica follows the new primary within a few seconds.
        let last = null;
        for (const until = Date.now() + 15000; Date.now() < until;) {
          last = await confirmed(c, svc);
          if (!last) return null;
        }
        return last;
      }).catch((e) => e.message);
      if (problem) problems.push(`${svc.user}, after the failover: ${problem}`);
    }
    // The services followed: ready again, connected to the new primary.
    for (const r of running) {
      let ok = false;
      for (const until = Date.now() + 20000; !ok && Date.now() < until;) {
        ok = (await clientsOf(promoted)).has(r.user) && (await waitReady(r.proc, 1000));
        if (!ok) await sleep(250);
      }
      if (!ok) problems.push(`accord-${r.name} is not ready on ${promoted.name} 20s after the failover:\n${r.proc.log.split('\n').slice(-6).join('\n')}`);
    }

    // The old primary comes back on its volume: a replica of the new one.
    await start(old);
    late = await pods.waitReady([old], 30000);
    const rejoined = await role(old);
    if (late.length || !(rejoined?.[0] === 'slave' && `${rejoined[1]}:${rejoined[2]}` === local(promoted))) {
      problems.push(`${old.name} restarted as ${JSON.stringify(rejoined)}, not a ready replica of ${promoted.name}:\n${old.log.split('\n').filter((l) => /redis-role/.test(l)).join('\n')}`);
    }

    // A Sentinel recreated (empty emptyDir) learns the primary from its peers.
    const s0 = sentinels[0];
    await pods.kill(s0, 'SIGKILL');
    s0.log = '';
    await start(s0);
    late = await pods.waitReady([s0], 30000);
    const named = await primaryNamedBy(s0);
    if (late.length || named !== local(promoted) || !/named by another Sentinel/.test(s0.log)) {
      problems.push(`${s0.name} recreated: ${late.length ? 'not ready, ' : ''}names ${named}, expected ${local(promoted)}:\n${s0.log.split('\n').filter((l) => /sentinel-config/.test(l)).join('\n')}`);
    }

    // Nothing was refused to anyone along the way.
    for (const p of pods.all().filter((x) => x.main?.exitCode === null)) problems.push(...(await aclRefusals(p)));
  } finally {
    for (const r of running) {
      const result = await terminate(r.proc, 30000);
      if (result === 'timeout' || result.code !== 0) problems.push(`accord-${r.name} did not exit 0 on SIGTERM: ${result === 'timeout' ? 'timeout' : result.code ?? result.signal}`);
    }
    if (problems.length) {
      for (const p of pods.all()) problems.push(`${p.name} log (last lines):\n${p.log.split('\n').slice(-8).join('\n')}`);
    }
    await pods.stopAll();
  }
  return problems;
}

if (sentinelFixture) {
  await test('ha: the rendered Redis and Sentinel pods and the services start, fail over keeping confirmed writes, and rejoin', () => sentinelScenario(sentinelFixture));
}

// --- self-test: broken manifests must be caught ------------------------------------

function mutate(objects, fn) {
  const copy = structuredClone(objects);
  fn(copy);
  return copy;
}
const deployment = (objs, name) => find(objs, 'Deployment', name);
const container0 = (objs, name) => podTemplate(deployment(objs, name)).spec.containers[0];
const setSecret = (secret, key, value) => { secret.data[key] = Buffer.from(value).toString('base64'); };

const MUTATIONS = [
  ['runAsNonRoot dropped', /runAsNonRoot must be true/, (o) => {
    delete podTemplate(deployment(o, 'accord-institution')).spec.securityContext.runAsNonRoot;
    delete container0(o, 'accord-institution').securityContext.runAsNonRoot;
  }],
  ['privilege escalation allowed', /allowPrivilegeEscalation must be false/, (o) => {
    container0(o, 'accord-notification').securityContext.allowPrivilegeEscalation = true;
  }],
  ['capabilities not dropped', /capabilities must drop ALL/, (o) => {
    delete container0(o, 'accord-agreement').securityContext.capabilities;
  }],
  ['writable root filesystem in Redis', /readOnlyRootFilesystem must be true/, (o) => {
    podTemplate(find(o, 'StatefulSet', 'accord-redis')).spec.containers[0].securityContext.readOnlyRootFilesystem = false;
  }],
  ['non-numeric runAsUser', /runAsUser must be a numeric/, (o) => {
    delete podTemplate(deployment(o, 'accord-agreement')).spec.securityContext.runAsUser;
    delete container0(o, 'accord-agreement').securityContext.runAsUser;
  }],
  ['hostPath volume', /hostPath is not allowed/, (o) => {
    podTemplate(deployment(o, 'accord-institution')).spec.volumes.push({ name: 'host', hostPath: { path: '/' } });
  }],
  ['HTTP readiness probe instead of gRPC', /readinessProbe must be a native gRPC probe/, (o) => {
    container0(o, 'accord-institution').readinessProbe = { httpGet: { path: '/metrics', port: 9090 } };
  }],
  ['gRPC probe on a named port', /grpc.port must be an integer/, (o) => {
    container0(o, 'accord-agreement').livenessProbe.grpc.port = 'grpc';
  }],
  ['memory limit removed', /resources.limits.memory is missing/, (o) => {
    delete container0(o, 'accord-notification').resources.limits.memory;
  }],
  ['image on :latest', /needs a fixed tag/, (o) => {
    container0(o, 'accord-institution').image = 'accord-institution:latest';
  }],
  ['version label removed', /missing label app.kubernetes.io\/version/, (o) => {
    delete deployment(o, 'accord-agreement').metadata.labels['app.kubernetes.io/version'];
  }],
  ['replicas fixed beside an HPA', /drop spec.replicas/, (o) => {
    deployment(o, 'accord-institution').spec.replicas = 3;
  }],
  ['HPA deleted', /expected one HorizontalPodAutoscaler/, (o) => {
    o.splice(o.indexOf(find(o, 'HorizontalPodAutoscaler', 'accord-notification')), 1);
  }],
  ['grace period shorter than preStop + shutdown grace', /terminationGracePeriodSeconds 35 must exceed/, (o) => {
    podTemplate(deployment(o, 'accord-notification')).spec.terminationGracePeriodSeconds = 35;
  }],
  ['preStop needs a shell', /preStop exec needs a shell/, (o) => {
    container0(o, 'accord-institution').lifecycle.preStop = { exec: { command: ['sleep', '10'] } };
  }],
  ['rollout may drop below capacity', /maxUnavailable 0/, (o) => {
    deployment(o, 'accord-agreement').spec.strategy.rollingUpdate.maxUnavailable = 1;
  }],
  ['service token mounted', /automountServiceAccountToken must be false/, (o) => {
    find(o, 'ServiceAccount', 'accord-institution').automountServiceAccountToken = true;
  }],
  ['Namespace not restricted', /pod-security.kubernetes.io\/enforce must be "restricted"/, (o) => {
    ofKind(o, 'Namespace')[0].metadata.labels['pod-security.kubernetes.io/enforce'] = 'baseline';
  }],
  ['default deny removed', /no default-deny NetworkPolicy/, (o) => {
    o.splice(o.indexOf(find(o, 'NetworkPolicy', 'default-deny-all')), 1);
  }],
  ['ingress open to everyone', /admits every source|should deny but would allow/, (o) => {
    find(o, 'NetworkPolicy', 'accord-institution').spec.ingress.push({ ports: [{ port: 50051, protocol: 'TCP' }] });
  }],
  ['DNS egress removed', /kube-dns:53\/UDP should allow but would deny/, (o) => {
    o.splice(o.indexOf(find(o, 'NetworkPolicy', 'allow-dns-egress')), 1);
  }],
  ['webhook egress reaches cloud metadata', /must except 169.254.0.0\/16|cloud metadata:443\/TCP should deny/, (o) => {
    const block = find(o, 'NetworkPolicy', 'accord-notification').spec.egress[0].to[0].ipBlock;
    block.except = block.except.filter((c) => c !== '169.254.0.0/16');
  }],
  ['agreement cut off from institution', /accord-agreement -> accord-institution:50051\/TCP should allow/, (o) => {
    find(o, 'NetworkPolicy', 'accord-agreement').spec.egress = [];
  }],
  ['Redis user with every command', /must not have \+@all/, (o) => {
    const s = ofKind(o, 'Secret').find((x) => x.metadata.name.startsWith('accord-redis-acl'));
    setSecret(s, 'users.acl', secretData(s, 'users.acl').replace('user accord-institution reset on', 'user accord-institution reset on +@all'));
  }],
  ['Redis user with keys outside accord:*', /key pattern ~\* is outside|must not have ~\*/, (o) => {
    const s = ofKind(o, 'Secret').find((x) => x.metadata.name.startsWith('accord-redis-acl'));
    setSecret(s, 'users.acl', secretData(s, 'users.acl').replace('~accord:*', '~*'));
  }],
  ['service password not the ACL one', /Redis password for accord-agreement does not match/, (o) => {
    const s = ofKind(o, 'Secret').find((x) => x.metadata.name.startsWith('accord-agreement-redis'));
    setSecret(s, 'url', secretData(s, 'url').replace('dev-agreement-redis-password', 'wrong'));
  }],
  ['AOF turned off', /appendonly yes/, (o) => {
    const cm = ofKind(o, 'ConfigMap').find((x) => x.data?.['redis.conf']);
    cm.data['redis.conf'] = cm.data['redis.conf'].replace('appendonly yes', 'appendonly no');
  }],
  ['Secret missing', /Secret accord-institution-api-\w+ is not in the manifests/, (o) => {
    o.splice(o.indexOf(ofKind(o, 'Secret').find((x) => x.metadata.name.startsWith('accord-institution-api'))), 1);
  }],
];

if (dev) {
  for (const [what, expect, fn] of MUTATIONS) {
    await test(`self-test: flags ${what}`, () => {
      const broken = mutate(dev, fn);
      const problems = lintAll(broken, { ...OVERLAYS.dev, flows: expectedFlows(broken, OVERLAYS.dev) });
      return problems.some((p) => expect.test(p)) ? [] : [`expected a problem matching ${expect}, got:\n${problems.join('\n') || '(none)'}`];
    });
  }
  await test('self-test: schema validation flags a malformed object', async () => {
    const broken = mutate(dev, (o) => {
      deployment(o, 'accord-institution').spec.minReadySeconds = 'ten';
      container0(o, 'accord-agreement').ports[0].containerPort = 'grpc';
    });
    const problems = await schemaProblems(broken);
    const want = [/minReadySeconds must be integer/, /containerPort must be integer/];
    return want.every((re) => problems.some((p) => re.test(p))) ? [] : [`got: ${problems.join('; ') || '(none)'}`];
  });
}
// On ha with test credentials: what components/redis-sentinel must keep.
const statefulSet = (objs, name) => find(objs, 'StatefulSet', name);
const configMapNamed = (objs, prefix) => ofKind(objs, 'ConfigMap').find((x) => x.metadata.name.startsWith(`${prefix}-`) && !x.metadata.name.slice(prefix.length + 1).includes('-'));
const SENTINEL_MUTATIONS = [
  ['two Redis pods on one node allowed', /accord-redis: needs a required pod anti-affinity/, (o) => {
    delete podTemplate(statefulSet(o, 'accord-redis')).spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  }],
  ['Sentinel anti-affinity on zones only', /accord-redis-sentinel: needs a required pod anti-affinity on kubernetes.io\/hostname/, (o) => {
    podTemplate(statefulSet(o, 'accord-redis-sentinel')).spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey = 'topology.kubernetes.io/zone';
  }],
  ['two Sentinels', /accord-redis-sentinel: replicas 2, expected 3/, (o) => {
    statefulSet(o, 'accord-redis-sentinel').spec.replicas = 2;
  }],
  ['Redis PDB removed', /StatefulSet\/accord-redis: expected one PodDisruptionBudget selecting its pods, found 0/, (o) => {
    o.splice(o.indexOf(find(o, 'PodDisruptionBudget', 'accord-redis')), 1);
  }],
  ['Sentinel quorum 1', /quorum 1, expected 2 of 3/, (o) => {
    const cm = configMapNamed(o, 'accord-redis-sentinel');
    cm.data['sentinel.conf'] = cm.data['sentinel.conf'].replace(/^(sentinel monitor \S+ \S+ \S+) 2$/m, '$1 1');
  }],
  ['Sentinels without hostnames', /needs "sentinel announce-hostnames yes"/, (o) => {
    const cm = configMapNamed(o, 'accord-redis-sentinel');
    cm.data['sentinel.conf'] = cm.data['sentinel.conf'].replace('sentinel announce-hostnames yes', '');
  }],
  ['Redis pods not resolvable until ready', /Service\/accord-redis: needs publishNotReadyAddresses: true/, (o) => {
    delete find(o, 'Service', 'accord-redis').spec.publishNotReadyAddresses;
  }],
  ['writes not confirmed by a replica', /ACCORD_REDIS_MIN_REPLICAS_ACKED "0" must be 1..2/, (o) => {
    configMapNamed(o, 'accord-common').data.ACCORD_REDIS_MIN_REPLICAS_ACKED = '0';
  }],
  ['replica confirmation outlasting the Redis timeout', /ACCORD_REDIS_REPLICA_ACK_TIMEOUT must be below ACCORD_REDIS_TIMEOUT/, (o) => {
    configMapNamed(o, 'accord-common').data.ACCORD_REDIS_REPLICA_ACK_TIMEOUT = '2s';
  }],
  ['a service on one Redis pod instead of the Sentinels', /accord-agreement: ACCORD_REDIS must be a redis\+sentinel:\/\/ URL/, (o) => {
    container0(o, 'accord-agreement').env[0].value = 'redis://accord-agreement@accord-redis-0.accord-redis:6379/0';
  }],
  ['a Sentinel URL naming a pod that does not exist', /accord-notification: ACCORD_REDIS lists Sentinels/, (o) => {
    const e = container0(o, 'accord-notification').env[0];
    e.value = e.value.replace('accord-redis-sentinel-2.', 'accord-redis-sentinel-3.');
  }],
  ['a password written in the manifest', /ACCORD_REDIS written in the manifest carries a password/, (o) => {
    const e = container0(o, 'accord-institution').env[0];
    e.value = e.value.replace('accord-institution@', 'accord-institution:test-institution-redis-password@');
  }],
  ['a service user without ROLE', /Redis user accord-institution needs \+role/, (o) => {
    const s = ofKind(o, 'Secret').find((x) => x.metadata.name.startsWith('accord-redis-acl'));
    setSecret(s, 'users.acl', secretData(s, 'users.acl').replace(/^(user accord-institution .*) \+role/m, '$1'));
  }],
  ['a Sentinel user with more than it needs', /user accord-sentinel must have exactly .*; remove \+config/, (o) => {
    const s = ofKind(o, 'Secret').find((x) => x.metadata.name.startsWith('accord-redis-acl'));
    setSecret(s, 'users.acl', secretData(s, 'users.acl').replace(/^(user accord-sentinel .*)$/m, '$1 +config'));
  }],
  ['a replication password not the ACL one', /password in \/etc\/redis\/replication\/password does not match accord-replication/, (o) => {
    setSecret(ofKind(o, 'Secret').find((x) => x.metadata.name.startsWith('accord-redis-replication')), 'password', 'wrong');
  }],
  ['the services cut off from the Sentinels', /accord-institution -> redis-sentinel:26379\/TCP should allow/, (o) => {
    const p = find(o, 'NetworkPolicy', 'allow-redis-egress');
    p.spec.egress = p.spec.egress.filter((r) => !r.ports.some((x) => x.port === 26379));
  }],
  ['Sentinels open to the API clients', /client-namespace pod -> redis-sentinel:26379\/TCP should deny/, (o) => {
    find(o, 'NetworkPolicy', 'accord-redis-sentinel').spec.ingress[0].from.push({ namespaceSelector: { matchLabels: { 'accord/client': 'true' } } });
  }],
  ['replicas cut off from the primary', /redis -> redis:6379\/TCP should allow/, (o) => {
    find(o, 'NetworkPolicy', 'accord-redis').spec.egress.shift();
  }],
];
if (sentinelFixture) {
  for (const [what, expect, fn] of SENTINEL_MUTATIONS) {
    await test(`self-test: flags ${what} (ha)`, () => {
      const broken = mutate(sentinelFixture, fn);
      const problems = lintAll(broken, { ...sentinelFixtureOptions, flows: expectedFlows(broken, OVERLAYS.ha) });
      return problems.some((p) => expect.test(p)) ? [] : [`expected a problem matching ${expect}, got:\n${problems.join('\n') || '(none)'}`];
    });
  }
}
if (rendered.prod) {
  await test('self-test: flags the prod Redis sidecar running as root', () => {
    const broken = mutate(rendered.prod, (o) => {
      podTemplate(deployment(o, 'accord-institution')).spec.initContainers[0].securityContext.runAsUser = 0;
    });
    return checkPodSecurity(broken).some((p) => /initContainers\/redis-tls: runAsUser/.test(p)) ? [] : ['not flagged'];
  });
}
if (dockerfileText) {
  const DOCKER_MUTATIONS = [
    ['runtime USER root', /USER must be a numeric uid\[:gid\], got "root"/, (t) => t.replace(/USER 65532:65532/g, 'USER root')],
    ['no USER at all', /USER must be a numeric .*none \(root\)/, (t) => t.replace(/^USER .*$/gm, '')],
    ['a non-Debian base', /FROM ubuntu:24.04 is not debian:12/, (t) => t.replace('FROM debian:12-slim AS runtime', 'FROM ubuntu:24.04 AS runtime')],
    ['a single stage', /target institution must run on debian:12-slim|must not inherit the build stage/, (t) => t.replace('FROM runtime AS institution', 'FROM build AS institution')],
    ['dev packages at run time', /installs development package libgrpc\+\+-dev/, (t) => t.replace('libgrpc++1.51 ', 'libgrpc++-dev ')],
    ['shell-form ENTRYPOINT', /ENTRYPOINT must be the exec form/, (t) => t.replace('ENTRYPOINT ["/usr/local/bin/accord-agreement"]', 'ENTRYPOINT /usr/local/bin/accord-agreement')],
  ];
  for (const [what, expect, fn] of DOCKER_MUTATIONS) {
    await test(`self-test: Dockerfile lint flags ${what}`, () => {
      const { problems } = lintDockerfile(fn(dockerfileText), { grpcPorts, dockerignore: dockerignoreText });
      return problems.some((p) => expect.test(p)) ? [] : [`expected ${expect}, got: ${problems.join('; ') || '(none)'}`];
    });
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);

// Writes each Secret volume of container `c` into a temporary folder, as
// the kubelet would mount it; returns [mountPath, folder] pairs.
function secretMounts(spec, c, objects) {
  const pairs = [];
  for (const mount of c.volumeMounts ?? []) {
    const volume = (spec.volumes ?? []).find((v) => v.name === mount.name);
    if (!volume?.secret) continue;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === volume.secret.secretName);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-secret-'));
    pairs.push([mount.mountPath, dir]);
    if (!secret) {
      // Created by the operator in prod: stand in with an empty principal
      // list and a token, which is all a start-up needs.
      fs.writeFileSync(path.join(dir, 'credentials.json'), '{"principals": []}');
      fs.writeFileSync(path.join(dir, 'institution-token'), 'operator-provided.token');
      continue;
    }
    for (const [key, value] of Object.entries(secret.data ?? {})) {
      fs.writeFileSync(path.join(dir, key), Buffer.from(String(value).replace(/\s+/g, ''), 'base64'));
    }
    for (const [key, value] of Object.entries(secret.stringData ?? {})) {
      fs.writeFileSync(path.join(dir, key), String(value));
    }
  }
  return pairs;
}

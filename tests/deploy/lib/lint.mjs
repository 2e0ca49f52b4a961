// Accord's rules for rendered manifests, beyond schema validity. Each check
// returns a list of problems (strings naming the object); an empty list
// means the rule holds. The functions are pure, so the self-test can feed
// them mutated copies and expect complaints.

import { createHash } from 'node:crypto';
import {
  RECOMMENDED, id, find, ofKind, podTemplate, workloads, allContainers,
  selectorMatches, mapSelectorMatches, imageTag, durationSeconds,
  containerEnv, secretData, validLabelValue, mountedSecretFile, parseRedisUrl,
} from './k8s.mjs';
import { allowed } from './netpol.mjs';

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass', 'StorageClass']);

// Volume types the restricted Pod Security Standard admits.
const RESTRICTED_VOLUMES = new Set([
  'configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret',
]);

// The metrics server (cpp-httplib) waits up to its keep-alive timeout for an
// idle scrape connection before the process can exit (measured: ~4-5s).
const METRICS_KEEPALIVE_SECONDS = 5;

function hostPort(text) {
  const m = /:(\d+)$/.exec(text ?? '');
  return m ? Number(m[1]) : NaN;
}

function isServiceDeployment(obj) {
  return obj.kind === 'Deployment' && /^accord-/.test(obj.metadata?.labels?.['app.kubernetes.io/name'] ?? '');
}

export function checkNamespace(objects) {
  const problems = [];
  const namespaces = ofKind(objects, 'Namespace');
  if (namespaces.length !== 1) return [`expected exactly one Namespace, found ${namespaces.length}`];
  const ns = namespaces[0];
  const labels = ns.metadata.labels ?? {};
  for (const mode of ['enforce', 'warn', 'audit']) {
    if (labels[`pod-security.kubernetes.io/${mode}`] !== 'restricted') {
      problems.push(`${id(ns)}: label pod-security.kubernetes.io/${mode} must be "restricted"`);
    }
  }
  if (!labels['pod-security.kubernetes.io/enforce-version']) {
    problems.push(`${id(ns)}: pin pod-security.kubernetes.io/enforce-version`);
  }
  for (const o of objects) {
    if (CLUSTER_SCOPED.has(o.kind)) continue;
    if (o.metadata?.namespace !== ns.metadata.name) {
      problems.push(`${id(o)}: namespace "${o.metadata?.namespace}" is not ${ns.metadata.name}`);
    }
  }
  return problems;
}

export function checkLabels(objects) {
  const problems = [];
  const versionByName = {};
  for (const w of workloads(objects)) {
    const name = w.metadata.labels?.['app.kubernetes.io/name'];
    const image = podTemplate(w).spec.containers?.[0]?.image ?? '';
    versionByName[name] = imageTag(image);
  }
  const needsAll = new Set(['Deployment', 'StatefulSet', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceAccount']);
  const check = (where, labels, all) => {
    const required = all ? RECOMMENDED : [
      'app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/part-of', 'app.kubernetes.io/managed-by'];
    for (const key of required) {
      if (!labels?.[key]) problems.push(`${where}: missing label ${key}`);
    }
    for (const [k, v] of Object.entries(labels ?? {})) {
      if (!validLabelValue(v)) problems.push(`${where}: label ${k}="${v}" is not a valid label value`);
    }
    if (labels?.['app.kubernetes.io/part-of'] && labels['app.kubernetes.io/part-of'] !== 'accord') {
      problems.push(`${where}: app.kubernetes.io/part-of must be "accord"`);
    }
    const name = labels?.['app.kubernetes.io/name'];
    const version = labels?.['app.kubernetes.io/version'];
    if (version !== undefined && versionByName[name] !== undefined && version !== versionByName[name]) {
      problems.push(`${where}: app.kubernetes.io/version "${version}" differs from the image tag "${versionByName[name]}"`);
    }
  };
  for (const o of objects) {
    check(id(o), o.metadata?.labels, needsAll.has(o.kind));
    if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
      check(`${id(o)} pod template`, podTemplate(o).metadata?.labels, true);
    }
  }
  return problems;
}

export function checkPodSecurity(objects) {
  const problems = [];
  for (const w of workloads(objects)) {
    const spec = podTemplate(w).spec;
    const psc = spec.securityContext ?? {};
    const where = id(w);
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) {
      if (spec[field]) problems.push(`${where}: ${field} is not allowed`);
    }
    if ((psc.sysctls ?? []).length) problems.push(`${where}: sysctls are not allowed`);
    for (const v of spec.volumes ?? []) {
      const type = Object.keys(v).find((k) => k !== 'name');
      if (!RESTRICTED_VOLUMES.has(type)) problems.push(`${where}: volume ${v.name} of type ${type} is not allowed by the restricted PSS`);
    }
    const sa = spec.serviceAccountName ? find(objects, 'ServiceAccount', spec.serviceAccountName) : null;
    if (!spec.serviceAccountName || spec.serviceAccountName === 'default') {
      problems.push(`${where}: use a dedicated ServiceAccount, not the default one`);
    } else if (!sa) {
      problems.push(`${where}: ServiceAccount ${spec.serviceAccountName} is not in the manifests`);
    }
    if (spec.automountServiceAccountToken !== false && sa?.automountServiceAccountToken !== false) {
      problems.push(`${where}: automountServiceAccountToken must be false`);
    }
    if (sa && sa.automountServiceAccountToken !== false) {
      problems.push(`${id(sa)}: automountServiceAccountToken must be false`);
    }
    if (spec.enableServiceLinks !== false) {
      problems.push(`${where}: enableServiceLinks must be false (service links inject *_PORT variables)`);
    }
    for (const c of allContainers(spec)) {
      const csc = c.securityContext ?? {};
      const at = `${where} ${c._where}/${c.name}`;
      if ((csc.runAsNonRoot ?? psc.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot must be true`);
      const uid = csc.runAsUser ?? psc.runAsUser;
      if (!Number.isInteger(uid) || uid <= 0) problems.push(`${at}: runAsUser must be a numeric non-root uid (got ${uid})`);
      if (csc.allowPrivilegeEscalation !== false) problems.push(`${at}: allowPrivilegeEscalation must be false`);
      if (csc.privileged) problems.push(`${at}: privileged is not allowed`);
      if (!(csc.capabilities?.drop ?? []).includes('ALL')) problems.push(`${at}: capabilities must drop ALL`);
      for (const cap of csc.capabilities?.add ?? []) {
        if (cap !== 'NET_BIND_SERVICE') problems.push(`${at}: capability ${cap} may not be added`);
      }
      const seccomp = (csc.seccompProfile ?? psc.seccompProfile)?.type;
      if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${at}: seccompProfile must be RuntimeDefault`);
      if (csc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem must be true`);
      if (csc.procMount && csc.procMount !== 'Default') problems.push(`${at}: procMount must be Default`);
      for (const p of c.ports ?? []) {
        if (p.hostPort) problems.push(`${at}: hostPort is not allowed`);
      }
      if (c._where !== 'ephemeralContainers') {
        for (const r of ['requests', 'limits']) {
          for (const res of ['cpu', 'memory']) {
            if (c.resources?.[r]?.[res] === undefined) problems.push(`${at}: resources.${r}.${res} is missing`);
          }
        }
      }
      const tag = imageTag(c.image ?? '');
      if ((!tag || tag === 'latest') && !(c.image ?? '').includes('@sha256:')) {
        problems.push(`${at}: image "${c.image}" needs a fixed tag or digest`);
      }
    }
  }
  return problems;
}

// Deployments of Accord's services: gRPC health probes, graceful shutdown,
// rollout safety, spreading, and their Service, PDB and HPA.
export function checkServiceDeployments(objects) {
  const problems = [];
  const deployments = objects.filter(isServiceDeployment);
  if (deployments.length === 0) problems.push('no Accord service Deployments found');
  for (const d of deployments) {
    const where = id(d);
    const tpl = podTemplate(d);
    const labels = tpl.metadata?.labels ?? {};
    const spec = tpl.spec;
    const c = spec.containers?.[0] ?? {};
    const grpcPort = (c.ports ?? []).find((p) => p.name === 'grpc')?.containerPort;
    const metricsPort = (c.ports ?? []).find((p) => p.name === 'metrics')?.containerPort;
    if (!grpcPort) problems.push(`${where}: container ${c.name} has no port named grpc`);
    if (!metricsPort) problems.push(`${where}: container ${c.name} has no port named metrics`);
    for (const probe of ['readinessProbe', 'livenessProbe']) {
      const port = c[probe]?.grpc?.port;
      if (port === undefined) problems.push(`${where}: ${probe} must be a native gRPC probe`);
      else if (!Number.isInteger(port)) problems.push(`${where}: ${probe}.grpc.port must be an integer`);
      else if (port !== grpcPort) problems.push(`${where}: ${probe}.grpc.port ${port} is not the grpc port ${grpcPort}`);
    }
    const env = containerEnv(c, objects);
    if (hostPort(env.ACCORD_LISTEN) !== grpcPort) {
      problems.push(`${where}: ACCORD_LISTEN "${env.ACCORD_LISTEN}" does not serve on the grpc port ${grpcPort}`);
    }
    if (hostPort(env.ACCORD_METRICS_LISTEN) !== metricsPort) {
      problems.push(`${where}: ACCORD_METRICS_LISTEN "${env.ACCORD_METRICS_LISTEN}" does not serve on the metrics port ${metricsPort}`);
    }
    // The URL holds the password, so it comes from a Secret; or the URL in
    // the manifest names only the user and the password is read from a file
    // in a mounted Secret (ACCORD_REDIS_PASSWORD_FILE).
    if (typeof env.ACCORD_REDIS === 'string') {
      if (parseRedisUrl(env.ACCORD_REDIS)?.password !== undefined) {
        problems.push(`${where}: ACCORD_REDIS written in the manifest carries a password; take it from a Secret (ACCORD_REDIS_PASSWORD_FILE)`);
      }
      if (!mountedSecretFile(spec, c, env.ACCORD_REDIS_PASSWORD_FILE)) {
        problems.push(`${where}: ACCORD_REDIS is not from a Secret, so ACCORD_REDIS_PASSWORD_FILE ("${env.ACCORD_REDIS_PASSWORD_FILE ?? ''}") must name a file in a mounted Secret`);
      }
    } else if (typeof env.ACCORD_REDIS !== 'object') {
      problems.push(`${where}: ACCORD_REDIS must come from a Secret (it holds the password)`);
    }
    const scrapePort = tpl.metadata?.annotations?.['prometheus.io/port'];
    if (scrapePort !== undefined && Number(scrapePort) !== metricsPort) {
      problems.push(`${where}: prometheus.io/port ${scrapePort} is not the metrics port`);
    }
    // Shutdown: endpoints drain during preStop, then SIGTERM and
    // ACCORD_SHUTDOWN_GRACE; all of it must fit the grace period.
    const preStop = c.lifecycle?.preStop;
    if (!preStop) problems.push(`${where}: container ${c.name} needs a preStop hook to let endpoints drain`);
    else if (preStop.exec) problems.push(`${where}: preStop exec needs a shell the image does not have; use sleep`);
    const sleep = preStop?.sleep?.seconds ?? 0;
    const grace = durationSeconds(env.ACCORD_SHUTDOWN_GRACE ?? '10s');
    if (Number.isNaN(grace)) problems.push(`${where}: ACCORD_SHUTDOWN_GRACE "${env.ACCORD_SHUTDOWN_GRACE}" is not a duration`);
    const tgps = spec.terminationGracePeriodSeconds ?? 30;
    if (!(tgps > sleep + grace + METRICS_KEEPALIVE_SECONDS)) {
      problems.push(`${where}: terminationGracePeriodSeconds ${tgps} must exceed preStop ${sleep}s + shutdown grace ${grace}s + ${METRICS_KEEPALIVE_SECONDS}s metrics keep-alive`);
    }
    const ru = d.spec.strategy?.rollingUpdate ?? {};
    if ((d.spec.strategy?.type ?? 'RollingUpdate') !== 'RollingUpdate' ||
        !(ru.maxUnavailable === 0 || ru.maxUnavailable === '0%') ||
        !(ru.maxSurge !== undefined && ru.maxSurge !== 0 && ru.maxSurge !== '0%')) {
      problems.push(`${where}: rolling updates must use maxUnavailable 0 and a positive maxSurge`);
    }
    const tsc = spec.topologySpreadConstraints ?? [];
    if (tsc.length === 0) problems.push(`${where}: needs topologySpreadConstraints`);
    for (const t of tsc) {
      if (!selectorMatches(t.labelSelector, labels)) problems.push(`${where}: a topology spread constraint does not select its own pods`);
    }
    const hpas = ofKind(objects, 'HorizontalPodAutoscaler').filter((h) =>
      h.spec.scaleTargetRef?.kind === 'Deployment' && h.spec.scaleTargetRef?.name === d.metadata.name);
    if (hpas.length !== 1) problems.push(`${where}: expected one HorizontalPodAutoscaler, found ${hpas.length}`);
    for (const h of hpas) {
      if (h.apiVersion !== 'autoscaling/v2') problems.push(`${id(h)}: use autoscaling/v2`);
      if (!(h.spec.minReplicas >= 1 && h.spec.minReplicas <= h.spec.maxReplicas)) {
        problems.push(`${id(h)}: needs 1 <= minReplicas <= maxReplicas`);
      }
      if (d.spec.replicas !== undefined) {
        problems.push(`${where}: drop spec.replicas; the HorizontalPodAutoscaler owns it and apply would reset it`);
      }
    }
    const pdbs = ofKind(objects, 'PodDisruptionBudget').filter((p) => selectorMatches(p.spec.selector, labels));
    if (pdbs.length !== 1) problems.push(`${where}: expected one PodDisruptionBudget selecting its pods, found ${pdbs.length}`);
    for (const p of pdbs) {
      const minReplicas = hpas[0]?.spec.minReplicas ?? 1;
      if (p.spec.maxUnavailable === undefined && p.spec.minAvailable === undefined) {
        problems.push(`${id(p)}: set maxUnavailable`);
      }
      if (Number.isInteger(p.spec.minAvailable) && p.spec.minAvailable >= minReplicas) {
        problems.push(`${id(p)}: minAvailable ${p.spec.minAvailable} would block every voluntary eviction at ${minReplicas} replicas`);
      }
    }
    const services = ofKind(objects, 'Service').filter((s) => mapSelectorMatches(s.spec.selector, labels));
    if (services.length === 0) problems.push(`${where}: no Service selects its pods`);
    for (const s of services) {
      for (const port of s.spec.ports ?? []) {
        const target = port.targetPort ?? port.port;
        const hit = (c.ports ?? []).some((cp) => cp.name === target || cp.containerPort === target);
        if (!hit) problems.push(`${id(s)}: targetPort ${target} is not a port of ${where}`);
      }
    }
  }
  return problems;
}

// Every ConfigMap and Secret a pod uses exists (or is one the overlay
// expects to be created outside it) and has the keys it reads.
export function checkReferences(objects, { externalSecrets = [] } = {}) {
  const problems = [];
  const external = new Set(externalSecrets);
  const need = (where, kind, name, key, optional) => {
    const obj = find(objects, kind, name);
    if (!obj) {
      if (optional) return;
      if (kind === 'Secret' && external.has(name)) return;
      problems.push(`${where}: ${kind} ${name} is not in the manifests`);
      return;
    }
    if (key !== undefined && obj.data?.[key] === undefined && obj.stringData?.[key] === undefined) {
      problems.push(`${where}: ${kind} ${name} has no key ${key}`);
    }
  };
  for (const w of workloads(objects)) {
    const spec = podTemplate(w).spec;
    for (const c of allContainers(spec)) {
      const where = `${id(w)} ${c.name}`;
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef) need(where, 'ConfigMap', f.configMapRef.name, undefined, f.configMapRef.optional);
        if (f.secretRef) need(where, 'Secret', f.secretRef.name, undefined, f.secretRef.optional);
      }
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef;
        const sk = e.valueFrom?.secretKeyRef;
        if (cm) need(where, 'ConfigMap', cm.name, cm.key, cm.optional);
        if (sk) need(where, 'Secret', sk.name, sk.key, sk.optional);
      }
      const mounted = new Set([
        ...(spec.volumes ?? []).map((v) => v.name),
        ...(w.spec?.volumeClaimTemplates ?? []).map((v) => v.metadata?.name),
      ]);
      for (const m of c.volumeMounts ?? []) {
        if (!mounted.has(m.name)) problems.push(`${where}: mounts undeclared volume ${m.name}`);
      }
    }
    for (const v of spec.volumes ?? []) {
      if (v.configMap) need(`${id(w)} volume ${v.name}`, 'ConfigMap', v.configMap.name, undefined, v.configMap.optional);
      if (v.secret) need(`${id(w)} volume ${v.name}`, 'Secret', v.secret.secretName, undefined, v.secret.optional);
    }
  }
  return problems;
}

const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '127.0.0.0/8', '100.64.0.0/10'];
const PRIVATE_V6 = ['fc00::/7', 'fe80::/10', '::1/128'];

export function checkNetworkPolicies(objects) {
  const problems = [];
  const policies = ofKind(objects, 'NetworkPolicy');
  const isEmptySelector = (s) => !s || (Object.keys(s.matchLabels ?? {}).length === 0 && (s.matchExpressions ?? []).length === 0);
  const defaultDeny = policies.filter((p) =>
    isEmptySelector(p.spec.podSelector) &&
    (p.spec.policyTypes ?? []).includes('Ingress') && (p.spec.policyTypes ?? []).includes('Egress') &&
    (p.spec.ingress ?? []).length === 0 && (p.spec.egress ?? []).length === 0);
  if (defaultDeny.length === 0) problems.push('no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)');
  for (const w of workloads(objects)) {
    const labels = podTemplate(w).metadata?.labels ?? {};
    const selecting = policies.filter((p) => !defaultDeny.includes(p) && selectorMatches(p.spec.podSelector ?? {}, labels));
    if (selecting.length === 0) problems.push(`${id(w)}: no NetworkPolicy (besides default deny) selects its pods`);
  }
  for (const p of policies) {
    for (const rule of p.spec.ingress ?? []) {
      if (!rule.from || rule.from.length === 0) problems.push(`${id(p)}: an ingress rule admits every source`);
      for (const peer of rule.from ?? []) {
        if (peer.namespaceSelector && isEmptySelector(peer.namespaceSelector) && isEmptySelector(peer.podSelector)) {
          problems.push(`${id(p)}: an ingress rule admits every pod of every namespace`);
        }
      }
      // Ports must exist on some selected pod, or the rule is stale.
      for (const port of rule.ports ?? []) {
        const hit = workloads(objects).some((w) =>
          selectorMatches(p.spec.podSelector ?? {}, podTemplate(w).metadata?.labels ?? {}) &&
          allContainers(podTemplate(w).spec).some((c) => (c.ports ?? []).some((cp) =>
            cp.containerPort === port.port || cp.name === port.port)));
        if (!hit) problems.push(`${id(p)}: ingress port ${port.port} is not a container port of any selected pod`);
      }
    }
    for (const rule of p.spec.egress ?? []) {
      if (!rule.to || rule.to.length === 0) problems.push(`${id(p)}: an egress rule allows every destination`);
      for (const peer of rule.to ?? []) {
        const cidr = peer.ipBlock?.cidr;
        if (cidr === '0.0.0.0/0' || cidr === '::/0') {
          const except = new Set(peer.ipBlock.except ?? []);
          for (const r of cidr === '0.0.0.0/0' ? PRIVATE_V4 : PRIVATE_V6) {
            if (!except.has(r)) problems.push(`${id(p)}: egress to ${cidr} must except ${r}`);
          }
          if (!rule.ports?.length) problems.push(`${id(p)}: egress to ${cidr} must name its ports`);
        }
      }
    }
  }
  return problems;
}

// --- flows -----------------------------------------------------------------

// A synthetic cluster around the rendered namespace: DNS, Prometheus, a
// client namespace, an unrelated namespace, and some addresses.
export function world(objects) {
  const ns = ofKind(objects, 'Namespace')[0]?.metadata ?? { name: 'accord', labels: {} };
  const namespaces = {
    [ns.name]: { ...(ns.labels ?? {}), 'kubernetes.io/metadata.name': ns.name },
    'kube-system': { 'kubernetes.io/metadata.name': 'kube-system' },
    monitoring: { 'kubernetes.io/metadata.name': 'monitoring' },
    'ministry-backend': { 'kubernetes.io/metadata.name': 'ministry-backend', 'accord/client': 'true' },
    'other-team': { 'kubernetes.io/metadata.name': 'other-team' },
  };
  const endpoints = {
    'kube-dns': { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' }, ports: [{ containerPort: 53, protocol: 'UDP' }, { containerPort: 53, protocol: 'TCP' }] },
    prometheus: { namespace: 'monitoring', labels: { 'app.kubernetes.io/name': 'prometheus' }, ports: [] },
    'client-namespace pod': { namespace: 'ministry-backend', labels: {}, ports: [] },
    'other-namespace pod': { namespace: 'other-team', labels: {}, ports: [] },
    'other-namespace pod labelled client': { namespace: 'other-team', labels: { 'accord/client': 'true' }, ports: [] },
    'labelled client pod': { namespace: ns.name, labels: { 'accord/client': 'true' }, ports: [] },
    'unlabelled pod': { namespace: ns.name, labels: {}, ports: [] },
    'public v4': { ip: '93.184.216.34' },
    'public v6': { ip: '2606:2800:220:1:248:1893:25c8:1946' },
    'cloud metadata': { ip: '169.254.169.254' },
    'private 10/8': { ip: '10.1.2.3' },
    'private 192.168/16': { ip: '192.168.1.10' },
    'private v6': { ip: 'fd00::1' },
  };
  for (const w of workloads(objects)) {
    const tpl = podTemplate(w);
    endpoints[tpl.metadata.labels['app.kubernetes.io/name']] = {
      namespace: ns.name,
      labels: tpl.metadata.labels,
      ports: allContainers(tpl.spec).flatMap((c) => c.ports ?? []),
    };
  }
  return { namespace: ns.name, namespaces, endpoints };
}

// flows: [[from, to, port, 'allow'|'deny', protocol?]], names from world().
export function checkFlows(objects, flows) {
  const problems = [];
  const w = world(objects);
  const policies = ofKind(objects, 'NetworkPolicy');
  for (const [from, to, port, want, protocol = 'TCP'] of flows) {
    const a = w.endpoints[from] ?? (/^\d|:/.test(from) ? { ip: from } : undefined);
    const b = w.endpoints[to] ?? (/^\d|:/.test(to) ? { ip: to } : undefined);
    if (!a || !b) {
      problems.push(`flow ${from} -> ${to}: unknown endpoint`);
      continue;
    }
    const got = allowed(policies, w, a, b, port, protocol) ? 'allow' : 'deny';
    if (got !== want) problems.push(`flow ${from} -> ${to}:${port}/${protocol} should ${want} but would ${got}`);
  }
  return problems;
}

// --- Redis -----------------------------------------------------------------

const REDIS_FORBIDDEN = [
  '+@all', 'allcommands', 'allkeys', '~*', '%r~*', '%w~*', '%rw~*', 'allchannels', '&*',
  '+@admin', '+@dangerous', '+@scripting', '+@keyspace', '+@write', '+@read', '+@pubsub', '+@stream',
  '+flushall', '+flushdb', '+config', '+keys', '+scan', '+debug', '+shutdown', '+acl', '+module',
  '+eval', '+evalsha', '+eval_ro', '+evalsha_ro', '+script', '+monitor', '+replicaof', '+slaveof', '+save',
  '+bgsave', '+bgrewriteaof', '+migrate', '+restore', '+client', '+function', '+function|flush',
  '+function|delete', '+function|restore', '+del', '+unlink', '+rename', '+sync', '+psync', '+failover',
];

export function parseAcl(text) {
  const users = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const [keyword, name, ...rules] = line.split(/\s+/);
    users[name] = { keyword, rules };
  }
  return users;
}

// Users the Redis replication and Sentinel machinery log in as
// (components/redis-sentinel), with exactly the rules Redis's documentation
// gives them (Sentinel's hello channel instead of allchannels; ROLE for the
// replication user, which the readiness probe uses) and nothing else: they
// need commands no service may have (SLAVEOF, CONFIG REWRITE, CLIENT KILL).
export const INFRASTRUCTURE_USERS = {
  'accord-replication': ['+psync', '+replconf', '+ping', '+role'],
  'accord-sentinel': ['&__sentinel__:hello', '+multi', '+slaveof', '+ping', '+exec', '+subscribe', '+config|rewrite',
    '+role', '+publish', '+info', '+client|setname', '+client|kill', '+script|kill'],
};

// Does ACL `entry` accept `password`?
function aclAccepts(entry, password) {
  const hash = createHash('sha256').update(password).digest('hex');
  return entry.rules.includes(`#${hash}`) || entry.rules.includes(`>${password}`);
}

// The in-cluster Redis's StatefulSet (name label "redis"), if any.
export function redisStatefulSet(objects) {
  return ofKind(objects, 'StatefulSet').find((s) => s.metadata.labels?.['app.kubernetes.io/name'] === 'redis');
}

// The Redis user and password container `c` of pod `spec` logs in with:
// from its URL, the password from ACCORD_REDIS_PASSWORD_FILE if set.
// Values in Secrets that are not in the manifests come back undefined.
export function serviceRedisLogin(spec, c, objects) {
  const env = containerEnv(c, objects);
  const ref = env.ACCORD_REDIS;
  const url = typeof ref === 'object' ? secretData(find(objects, 'Secret', ref.secret), ref.key) : ref;
  const parsed = parseRedisUrl(url);
  let password = parsed?.password;
  if (env.ACCORD_REDIS_PASSWORD_FILE) {
    const file = mountedSecretFile(spec, c, env.ACCORD_REDIS_PASSWORD_FILE);
    password = file ? secretData(find(objects, 'Secret', file.secretName), file.key)?.replace(/\s+$/, '') : undefined;
  }
  return { url, parsed, user: parsed?.user, password, env };
}

// The in-cluster Redis (dev, and the replicated one of
// components/redis-sentinel): persistence, ACL file, per-service users.
// With the ACL file in a Secret the operator creates (externalSecrets),
// only what the manifests hold is checked.
export function checkRedis(objects, { externalSecrets = [] } = {}) {
  const problems = [];
  const sts = redisStatefulSet(objects);
  if (!sts) return problems;
  const where = id(sts);
  const spec = podTemplate(sts).spec;
  const c = spec.containers.find((x) => x.name === 'redis');
  if (!(sts.spec.volumeClaimTemplates ?? []).length) problems.push(`${where}: needs a volumeClaimTemplate for its data`);
  const confVolume = spec.volumes.find((v) => v.configMap);
  const conf = find(objects, 'ConfigMap', confVolume?.configMap.name)?.data?.['redis.conf'] ?? '';
  const directive = (name) => (conf.match(new RegExp(`^\\s*${name}\\s+(.*)$`, 'm')) ?? [])[1]?.trim();
  if (directive('appendonly') !== 'yes') problems.push(`${where}: redis.conf must set appendonly yes`);
  const dir = directive('dir');
  const pvc = sts.spec.volumeClaimTemplates?.[0]?.metadata?.name;
  if (!(c.volumeMounts ?? []).some((m) => m.name === pvc && m.mountPath === dir)) {
    problems.push(`${where}: the data volume is not mounted at redis.conf's dir ${dir}`);
  }
  const args = c.args ?? [];
  const fsyncAt = args.indexOf('--appendfsync');
  const env = containerEnv(c, objects);
  const fsync = fsyncAt >= 0 ? args[fsyncAt + 1].replace(/^\$\((\w+)\)$/, (_, v) => env[v]) : directive('appendfsync');
  if (!['always', 'everysec', 'no'].includes(fsync)) problems.push(`${where}: appendfsync "${fsync}" is not always|everysec|no`);
  if (fsyncAt < 0 || !/^\$\(\w+\)$/.test(args[fsyncAt + 1])) problems.push(`${where}: appendfsync should come from the ConfigMap`);
  const aclPath = directive('aclfile');
  const aclMount = (c.volumeMounts ?? []).find((m) => aclPath?.startsWith(`${m.mountPath}/`));
  const aclVolume = spec.volumes.find((v) => v.name === aclMount?.name);
  const aclSecretName = aclVolume?.secret?.secretName;
  const aclSecret = find(objects, 'Secret', aclSecretName);
  if (!aclSecret) {
    if (!externalSecrets.includes(aclSecretName)) problems.push(`${where}: aclfile ${aclPath} is not mounted from a Secret`);
    return problems;
  }
  const acl = secretData(aclSecret, aclPath.slice(aclMount.mountPath.length + 1)) ?? '';
  const users = parseAcl(acl);
  const def = users.default;
  if (!def || !def.rules.includes('off')) problems.push(`${id(aclSecret)}: the default user must be off`);
  for (const [name, user] of Object.entries(users)) {
    if (user.keyword !== 'user') problems.push(`${id(aclSecret)}: line for ${name} must start with "user"`);
    if (name === 'default') continue;
    const rules = user.rules.map((r) => r.toLowerCase());
    if (!rules.includes('reset')) problems.push(`${id(aclSecret)}: user ${name} must start from "reset"`);
    if (INFRASTRUCTURE_USERS[name]) {
      const grants = rules.filter((r) => !['reset', 'on'].includes(r) && !/^[#>]/.test(r));
      const want = INFRASTRUCTURE_USERS[name];
      const extra = grants.filter((r) => !want.includes(r));
      const missing = want.filter((r) => !grants.includes(r));
      if (extra.length || missing.length) {
        problems.push(`${id(aclSecret)}: user ${name} must have exactly ${want.join(' ')}${extra.length ? `; remove ${extra.join(' ')}` : ''}${missing.length ? `; add ${missing.join(' ')}` : ''}`);
      }
      if (!rules.includes('on') || rules.includes('nopass') || !rules.some((r) => /^[#>]/.test(r))) {
        problems.push(`${id(aclSecret)}: user ${name} must be on, with a password`);
      }
      continue;
    }
    for (const bad of REDIS_FORBIDDEN) {
      if (rules.includes(bad)) problems.push(`${id(aclSecret)}: user ${name} must not have ${bad}`);
    }
    for (const r of rules) {
      if (/^(%\w*)?~/.test(r) && !/^(%\w*)?~accord:/.test(r)) problems.push(`${id(aclSecret)}: user ${name} key pattern ${r} is outside accord:*`);
      // Narrower patterns are listed too: Redis 7.0 grants a PSUBSCRIBE pattern
      // only if it equals an allowed one literally.
      if (r.startsWith('&') && !r.startsWith('&accord:events:')) problems.push(`${id(aclSecret)}: user ${name} channel pattern ${r} is outside accord:events:*`);
    }
    if (rules.includes('nopass') && rules.filter((r) => r.startsWith('+')).join(' ') !== '+ping') {
      problems.push(`${id(aclSecret)}: passwordless user ${name} may only PING`);
    }
  }
  // Each service logs in as its own user with the password the ACL expects,
  // and may run what its settings make it send.
  const deploymentsByUser = {};
  for (const d of objects.filter(isServiceDeployment)) {
    const dspec = podTemplate(d).spec;
    const login = serviceRedisLogin(dspec, dspec.containers[0], objects);
    if (!login.user || login.password === undefined) {
      problems.push(`${id(d)}: Redis URL must name a user and password`);
      continue;
    }
    const { user, password, parsed } = login;
    (deploymentsByUser[user] ??= []).push(id(d));
    const entry = users[user];
    if (!entry) {
      problems.push(`${id(d)}: Redis user ${user} is not in the ACL file`);
      continue;
    }
    if (!aclAccepts(entry, password)) problems.push(`${id(d)}: Redis password for ${user} does not match the ACL file`);
    const rules = entry.rules.map((r) => r.toLowerCase());
    // With Sentinel the client checks ROLE on every new connection; with
    // replica confirmation every write path call adds INCR (the fence) and
    // WAIT (common/write_path.cc).
    const needs = [
      ...(parsed.sentinel ? [['+role', 'its URL is a Sentinel URL (ROLE on connecting)']] : []),
      ...(Number(login.env.ACCORD_REDIS_MIN_REPLICAS_ACKED ?? 0) > 0
        ? [['+incr', 'ACCORD_REDIS_MIN_REPLICAS_ACKED > 0 (the fence write)'], ['+wait', 'ACCORD_REDIS_MIN_REPLICAS_ACKED > 0']] : []),
    ];
    for (const [rule, why] of needs) {
      if (!rules.includes(rule)) problems.push(`${id(d)}: Redis user ${user} needs ${rule}: ${why}`);
    }
    if (!parsed.sentinel) {
      const host = parsed.hosts[0];
      const svc = find(objects, 'Service', host.split(':')[0]);
      if (!svc || !mapSelectorMatches(svc.spec.selector, podTemplate(sts).metadata.labels)) {
        problems.push(`${id(d)}: Redis host ${host} is not the Redis Service`);
      }
    }
  }
  for (const [user, ds] of Object.entries(deploymentsByUser)) {
    if (ds.length > 1) problems.push(`Redis user ${user} is shared by ${ds.join(', ')}`);
  }
  // The replication and Sentinel users' passwords are the ones their pods
  // mount (components/redis-sentinel: the *_PASSWORD_FILE of the init
  // containers).
  const logins = [
    ['accord-replication', sts, 'REPLICATION_PASSWORD_FILE'],
    ['accord-sentinel', sentinelStatefulSet(objects), 'SENTINEL_PASSWORD_FILE'],
  ];
  for (const [user, owner, variable] of logins) {
    if (!owner) continue;
    const ospec = podTemplate(owner).spec;
    for (const oc of allContainers(ospec)) {
      const file = containerEnv(oc, objects)[variable];
      if (file === undefined) continue;
      const ref = mountedSecretFile(ospec, oc, file);
      const password = ref && secretData(find(objects, 'Secret', ref.secretName), ref.key)?.replace(/\s+$/, '');
      if (!users[user]) problems.push(`${id(owner)} ${oc.name}: Redis user ${user} is not in the ACL file`);
      else if (password === undefined) problems.push(`${id(owner)} ${oc.name}: ${variable} ${file} is not a key of a Secret in the manifests`);
      else if (!aclAccepts(users[user], password)) problems.push(`${id(owner)} ${oc.name}: the password in ${file} does not match ${user} in the ACL file`);
    }
  }
  return problems;
}

// --- Redis with Sentinel (components/redis-sentinel) -----------------------------

export function sentinelStatefulSet(objects) {
  return ofKind(objects, 'StatefulSet').find((s) => s.metadata.labels?.['app.kubernetes.io/name'] === 'redis-sentinel');
}

// "NAME-0.SERVICE:PORT NAME-1.SERVICE:PORT ..." for a StatefulSet's pods.
function podAddresses(sts, port) {
  return Array.from({ length: sts.spec.replicas ?? 1 }, (_, i) => `${sts.metadata.name}-${i}.${sts.spec.serviceName}:${port}`);
}

// Three Redis pods and three Sentinels, each on its own node, each with a
// PDB and a headless Service; the topology the ConfigMap, sentinel.conf
// and the services' URLs give agrees with the StatefulSets; every write
// waits for a replica.
export function checkSentinel(objects) {
  const problems = [];
  const redis = redisStatefulSet(objects);
  const sentinel = sentinelStatefulSet(objects);
  if (!redis || !sentinel) return [`expected a Redis and a Sentinel StatefulSet (app.kubernetes.io/name redis, redis-sentinel), found ${[redis, sentinel].filter(Boolean).map(id).join(', ') || 'neither'}`];
  const portOf = (sts, name) => podTemplate(sts).spec.containers[0].ports?.find((p) => p.name === name)?.containerPort;
  for (const sts of [redis, sentinel]) {
    const where = id(sts);
    const labels = podTemplate(sts).metadata?.labels ?? {};
    if (sts.spec.replicas !== 3) problems.push(`${where}: replicas ${sts.spec.replicas}, expected 3`);
    const required = podTemplate(sts).spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
    if (!required.some((t) => t.topologyKey === 'kubernetes.io/hostname' && selectorMatches(t.labelSelector, labels))) {
      problems.push(`${where}: needs a required pod anti-affinity on kubernetes.io/hostname against its own pods (one per node)`);
    }
    const pdbs = ofKind(objects, 'PodDisruptionBudget').filter((p) => selectorMatches(p.spec.selector, labels));
    if (pdbs.length !== 1) problems.push(`${where}: expected one PodDisruptionBudget selecting its pods, found ${pdbs.length}`);
    for (const p of pdbs) {
      if (p.spec.maxUnavailable !== 1) problems.push(`${id(p)}: maxUnavailable must be 1 (one of three pods at a time), got ${p.spec.maxUnavailable ?? `minAvailable ${p.spec.minAvailable}`}`);
    }
    const svc = find(objects, 'Service', sts.spec.serviceName);
    if (!svc || svc.spec.clusterIP !== 'None' || !mapSelectorMatches(svc.spec.selector, labels)) {
      problems.push(`${where}: its serviceName ${sts.spec.serviceName} must be a headless Service selecting its pods`);
    } else if (svc.spec.publishNotReadyAddresses !== true) {
      problems.push(`${id(svc)}: needs publishNotReadyAddresses: true (pods must resolve each other while starting)`);
    }
  }
  const redisPort = portOf(redis, 'redis');
  const sentinelPort = portOf(sentinel, 'sentinel');
  // The redis container runs the file the init container writes.
  const init = (podTemplate(redis).spec.initContainers ?? [])[0];
  const conf = init && containerEnv(init, objects).CONF;
  if (!conf || podTemplate(redis).spec.containers[0].args?.[0] !== conf) {
    problems.push(`${id(redis)}: the redis container must run the configuration its init container writes (CONF ${conf})`);
  }
  const template = podTemplate(sentinel).spec.volumes?.find((v) => v.configMap);
  const cm = find(objects, 'ConfigMap', template?.configMap.name);
  if (!cm) return [...problems, `${id(sentinel)}: no ConfigMap with sentinel.conf`];
  const data = cm.data ?? {};
  const text = data['sentinel.conf'] ?? '';
  const quorum = Math.floor(sentinel.spec.replicas / 2) + 1;
  const monitor = /^\s*sentinel\s+monitor\s+(\S+)\s+\S+\s+\S+\s+(\d+)\s*$/m.exec(text);
  if (!monitor) problems.push(`${id(cm)}: sentinel.conf has no "sentinel monitor" line`);
  else if (Number(monitor[2]) !== quorum) problems.push(`${id(cm)}: quorum ${monitor[2]}, expected ${quorum} of ${sentinel.spec.replicas}`);
  for (const line of ['sentinel resolve-hostnames yes', 'sentinel announce-hostnames yes']) {
    if (!new RegExp(`^\\s*${line.replace(/ /g, '\\s+')}\\s*$`, 'm').test(text)) problems.push(`${id(cm)}: sentinel.conf needs "${line}" (pods are reached by name)`);
  }
  const masterName = data['master-name'];
  const list = (key) => (data[key] ?? '').split(/\s+/).filter(Boolean);
  const wantNodes = podAddresses(redis, redisPort);
  const wantSentinels = podAddresses(sentinel, sentinelPort);
  if (list('redis-nodes').join(' ') !== wantNodes.join(' ')) problems.push(`${id(cm)}: redis-nodes "${data['redis-nodes']}", expected "${wantNodes.join(' ')}"`);
  if (list('sentinels').join(' ') !== wantSentinels.join(' ')) problems.push(`${id(cm)}: sentinels "${data.sentinels}", expected "${wantSentinels.join(' ')}"`);
  const timeoutOf = (env, key, fallback) => durationSeconds(env[key] ?? fallback);
  for (const d of objects.filter(isServiceDeployment)) {
    const spec = podTemplate(d).spec;
    const { url, parsed, env } = serviceRedisLogin(spec, spec.containers[0], objects);
    if (!parsed?.sentinel) {
      problems.push(`${id(d)}: ACCORD_REDIS must be a redis+sentinel:// URL in the manifests, got ${url === undefined ? 'a value in a Secret not in the manifests' : JSON.stringify(url)}`);
    } else {
      if (parsed.hosts.join(' ') !== wantSentinels.join(' ')) problems.push(`${id(d)}: ACCORD_REDIS lists Sentinels ${parsed.hosts.join(',')}, expected ${wantSentinels.join(',')}`);
      if (parsed.masterName !== masterName) problems.push(`${id(d)}: ACCORD_REDIS names primary "${parsed.masterName}", the Sentinels watch "${masterName}"`);
    }
    const acked = env.ACCORD_REDIS_MIN_REPLICAS_ACKED;
    if (!(Number.isInteger(Number(acked)) && Number(acked) >= 1 && Number(acked) <= redis.spec.replicas - 1)) {
      problems.push(`${id(d)}: ACCORD_REDIS_MIN_REPLICAS_ACKED "${acked ?? ''}" must be 1..${redis.spec.replicas - 1}: a write unconfirmed by a replica can be lost in a failover`);
    }
    if (!(timeoutOf(env, 'ACCORD_REDIS_REPLICA_ACK_TIMEOUT', '1s') < timeoutOf(env, 'ACCORD_REDIS_TIMEOUT', '2s'))) {
      problems.push(`${id(d)}: ACCORD_REDIS_REPLICA_ACK_TIMEOUT must be below ACCORD_REDIS_TIMEOUT`);
    }
  }
  return problems;
}

export function lintAll(objects, options = {}) {
  return [
    ...checkNamespace(objects),
    ...checkLabels(objects),
    ...checkPodSecurity(objects),
    ...checkServiceDeployments(objects),
    ...checkReferences(objects, options),
    ...checkNetworkPolicies(objects),
    ...checkRedis(objects, options),
    ...(options.redis === 'sentinel' ? checkSentinel(objects) : []),
    ...(options.flows ? checkFlows(objects, options.flows) : []),
  ];
}

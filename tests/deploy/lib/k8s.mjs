// Helpers over rendered Kubernetes objects: lookups, label selectors,
// pod templates and their containers.

export const RECOMMENDED = [
  'app.kubernetes.io/name',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/component',
  'app.kubernetes.io/part-of',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
];

export const WORKLOAD_KINDS = new Set([
  'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod',
]);

export function id(obj) {
  return `${obj.kind}/${obj.metadata?.name}`;
}

export function find(objects, kind, name) {
  return objects.find((o) => o.kind === kind && o.metadata?.name === name);
}

export function ofKind(objects, kind) {
  return objects.filter((o) => o.kind === kind);
}

// The pod template (or pod) spec of a workload, with its labels.
export function podTemplate(obj) {
  switch (obj.kind) {
    case 'Pod':
      return { metadata: obj.metadata ?? {}, spec: obj.spec ?? {} };
    case 'CronJob':
      return obj.spec?.jobTemplate?.spec?.template ?? { metadata: {}, spec: {} };
    default:
      return obj.spec?.template ?? { metadata: {}, spec: {} };
  }
}

export function workloads(objects) {
  return objects.filter((o) => WORKLOAD_KINDS.has(o.kind));
}

// Every container of a pod spec, tagged with where it came from.
export function allContainers(spec) {
  return [
    ...(spec.initContainers ?? []).map((c) => ({ ...c, _where: 'initContainers' })),
    ...(spec.containers ?? []).map((c) => ({ ...c, _where: 'containers' })),
    ...(spec.ephemeralContainers ?? []).map((c) => ({ ...c, _where: 'ephemeralContainers' })),
  ];
}

// Kubernetes label selector semantics (matchLabels AND matchExpressions; an
// empty selector matches everything).
export function selectorMatches(selector, labels = {}) {
  if (selector == null) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key])) return false;
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key])) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

// A Service's selector is a plain map.
export function mapSelectorMatches(map, labels = {}) {
  if (!map || Object.keys(map).length === 0) return false;
  return Object.entries(map).every(([k, v]) => labels[k] === v);
}

export function imageTag(image) {
  const noDigest = image.split('@')[0];
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? '' : noDigest.slice(colon + 1);
}

// Go duration subset used by the flags ("20s", "1m30s", "500ms").
export function durationSeconds(text) {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of String(text).matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n / 1000 : m[2] === 's' ? n : m[2] === 'm' ? n * 60 : n * 3600;
    consumed += m[0].length;
  }
  return consumed === String(text).length && consumed > 0 ? total : NaN;
}

// The environment a container sees from ConfigMaps (envFrom, then env
// values and configMapKeyRefs). Secret-backed variables map to
// {secret, key}.
export function containerEnv(container, objects) {
  const env = {};
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) {
      const cm = find(objects, 'ConfigMap', from.configMapRef.name);
      Object.assign(env, cm?.data ?? {});
    }
  }
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.configMapKeyRef) {
      const ref = e.valueFrom.configMapKeyRef;
      env[e.name] = find(objects, 'ConfigMap', ref.name)?.data?.[ref.key];
    } else if (e.valueFrom?.secretKeyRef) {
      env[e.name] = { secret: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key };
    }
  }
  return env;
}

export function secretData(secret, key) {
  if (!secret) return undefined;
  if (secret.stringData?.[key] !== undefined) return secret.stringData[key];
  if (secret.data?.[key] !== undefined) return Buffer.from(secret.data[key], 'base64').toString('utf8');
  return undefined;
}

// Label values: at most 63 characters, alphanumeric at both ends.
export function validLabelValue(v) {
  return typeof v === 'string' && v.length <= 63 && /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v);
}

// The Secret file a path in container `c` of pod `spec` reads, if the path
// lies in a mounted Secret volume: {secretName, key}; else null.
export function mountedSecretFile(spec, c, filePath) {
  for (const m of c.volumeMounts ?? []) {
    if (typeof filePath !== 'string' || !filePath.startsWith(`${m.mountPath}/`)) continue;
    const volume = (spec.volumes ?? []).find((v) => v.name === m.name);
    if (!volume?.secret) return null;
    return { secretName: volume.secret.secretName, key: filePath.slice(m.mountPath.length + 1) };
  }
  return null;
}

// The parts of a Redis URL as the services parse it (common/config.cc):
// redis://[user[:password]@]HOST:PORT[/DB] or
// redis+sentinel://[user[:password]@]HOST:PORT[,HOST:PORT...]/MASTER[/DB].
// null if it is neither.
export function parseRedisUrl(url) {
  const m = /^(redis|redis\+sentinel):\/\/(?:([^@]*)@)?([^/@]+)(?:\/(.*))?$/.exec(url ?? '');
  if (!m) return null;
  const [, scheme, credentials, hosts, path = ''] = m;
  let user;
  let password;
  if (credentials !== undefined) {
    const colon = credentials.indexOf(':');
    user = colon < 0 ? credentials : credentials.slice(0, colon);
    password = colon < 0 ? undefined : credentials.slice(colon + 1);
  }
  const sentinel = scheme === 'redis+sentinel';
  const [first, db] = sentinel ? path.split('/') : [undefined, path];
  return {
    sentinel, user, password, hosts: hosts.split(','), masterName: sentinel ? first : undefined, db: db ?? '',
  };
}

// A renderer for the subset of kustomize that deploy/k8s uses, so the
// manifest checks run where kubectl is not installed (Debian 12 has no
// kubectl recent enough). It follows kustomize v5.5 (sigs.k8s.io/kustomize
// api v0.18, the one in kubectl 1.32) step by step: the same order of
// generators and transformers, the same content hash on generated
// ConfigMaps and Secrets, the same rewriting of references to them, the
// same output order. check_manifests.mjs compares its output with
// `kubectl kustomize` wherever kubectl exists.
//
// Supported (exactly what deploy/k8s needs; anything else throws a
// KustomizeError naming the field, never silently ignored):
//   resources        files in or below the kustomization's folder, and
//                    folders holding a kustomization (bases)
//   components       folders holding a Component (kind Component,
//                    kustomize.config.k8s.io/v1alpha1): after the
//                    resources, each adds its own resources to those
//                    accumulated so far and runs its generators and
//                    transformers over all of them, as kustomize does
//   namespace        metadata.namespace of namespaced objects, the name of
//                    Namespace objects
//   labels           pairs, includeSelectors: false, includeTemplates
//   configMapGenerator / secretGenerator
//                    name, behavior create|merge, literals, files
//                    ([key=]path), options.labels, type (Secrets); names get
//                    kustomize's content-hash suffix, and every reference
//                    to them (kustomize's nameReference list for ConfigMaps
//                    and Secrets) is rewritten
//   images           name, newName, newTag
//   patches          inline or path; JSON 6902 (add, remove, replace, test)
//                    with a target, or one strategic-merge patch with a
//                    target (maps merged, scalars replaced, and the pod lists
//                    kustomize merges by key: containers, initContainers,
//                    volumes, imagePullSecrets, env, volumeMounts)
//   replacements     source (kind/name/fieldPath, options.delimiter/index)
//                    to targets (select by kind/name/labelSelector,
//                    fieldPaths, options.create)
// Scalars are read as kustomize reads them (go-yaml v3: 0440 is octal 288,
// yes/on stay strings, True is a boolean) and objects come out as kubectl
// prints them after its JSON round trip.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, isMap, isSeq, isScalar, isAlias } from 'yaml';

export class KustomizeError extends Error {}

function fail(msg) {
  throw new KustomizeError(msg);
}

// --- YAML as kustomize reads it ------------------------------------------------

// go-yaml v3's resolve() for an untagged plain scalar, followed by the JSON
// round trip kustomize's output goes through. Values the JSON round trip
// would reject (infinities, NaN) or turn into something else (timestamps)
// are refused rather than guessed at.
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const GO_INT_BASE0 = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)$/;

function goParseInt(plain) {
  const m = GO_INT_BASE0.exec(plain);
  if (!m) return undefined;
  let digits = m[2];
  let n;
  if (/^0[xXoObB]/.test(digits)) n = BigInt(digits.toLowerCase());
  else if (digits.length > 1 && digits[0] === '0') n = BigInt('0o' + digits.slice(1));
  else n = BigInt(digits);
  if (m[1] === '-') n = -n;
  // ParseInt (int64) or, unsigned, ParseUint (uint64).
  if (n < -(2n ** 63n) || n >= 2n ** 64n || (n >= 2n ** 63n && m[1] !== '')) return undefined;
  return n;
}

// Plain scalars go-yaml v2 (YAML 1.1, which kustomize uses for
// kustomization files and JSON patches) reads as booleans, v3 as strings.
const YAML11_BOOLEANS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'n', 'N', 'no', 'No', 'NO', 'on', 'On', 'ON', 'off', 'Off', 'OFF']);

export function resolvePlainScalar(s, where, { yaml11 = false } = {}) {
  if (yaml11 && YAML11_BOOLEANS.has(s)) {
    fail(`${where}: the plain scalar ${s} is a boolean to kustomize's YAML 1.1 parser here but a string elsewhere; quote it (or write true/false)`);
  }
  if (s === '' || s === '~' || s === 'null' || s === 'Null' || s === 'NULL') return null;
  if (s === 'true' || s === 'True' || s === 'TRUE') return true;
  if (s === 'false' || s === 'False' || s === 'FALSE') return false;
  if (/^[-+]?\.(inf|Inf|INF)$/.test(s) || /^\.(nan|NaN|NAN)$/.test(s)) {
    fail(`${where}: ${s} cannot be rendered (kustomize's JSON encoding rejects it)`);
  }
  const c = s[0];
  if (c === '.') {
    if (/^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(s) && Number.isFinite(Number(s))) return Number(s);
    return s;
  }
  if (/[0-9+-]/.test(c)) {
    if (/^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}/.test(s)) {
      fail(`${where}: the plain scalar ${s} may be a YAML timestamp, which this renderer does not implement; quote it`);
    }
    const plain = s.replace(/_/g, '');
    const n = goParseInt(plain);
    if (n !== undefined) {
      if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
        fail(`${where}: integer ${s} is too large for this renderer; quote it`);
      }
      return Number(n);
    }
    if (YAML_STYLE_FLOAT.test(plain)) {
      const f = Number(plain);
      if (Number.isFinite(f)) return f === 0 ? 0 : f;
    }
    return s;
  }
  return s;
}

function toValue(node, where, opts) {
  if (node == null) return null;
  if (isAlias(node)) fail(`${where}: YAML aliases are not implemented`);
  if (isMap(node)) {
    if (node.tag && node.tag !== 'tag:yaml.org,2002:map') fail(`${where}: tag ${node.tag} is not implemented`);
    const out = {};
    for (const pair of node.items) {
      const k = pair.key;
      if (!isScalar(k)) fail(`${where}: non-scalar mapping key`);
      const key = k.type === 'PLAIN' && !k.tag ? resolvePlainScalar(k.source, where, opts) : String(k.value);
      if (typeof key !== 'string') fail(`${where}: mapping key ${k.source} is not a string`);
      if (key === '<<' && k.type === 'PLAIN') fail(`${where}: YAML merge keys are not implemented`);
      if (Object.prototype.hasOwnProperty.call(out, key)) fail(`${where}: duplicate key ${key}`);
      out[key] = toValue(pair.value, `${where}.${key}`, opts);
    }
    return out;
  }
  if (isSeq(node)) {
    if (node.tag && node.tag !== 'tag:yaml.org,2002:seq') fail(`${where}: tag ${node.tag} is not implemented`);
    return node.items.map((item, i) => toValue(item, `${where}[${i}]`, opts));
  }
  if (isScalar(node)) {
    if (node.tag) {
      if (node.tag === 'tag:yaml.org,2002:str') return String(node.value);
      fail(`${where}: explicit tag ${node.tag} is not implemented`);
    }
    if (node.type === 'PLAIN') return resolvePlainScalar(node.source, where, opts);
    return String(node.value);
  }
  fail(`${where}: unexpected YAML node`);
}

// Every document of a YAML stream; empty documents are dropped, as kio does.
// yaml11: refuse what go-yaml v2 would read differently from v3.
export function parseYamlStream(text, where, opts = {}) {
  const docs = parseAllDocuments(text, { schema: 'failsafe', uniqueKeys: true });
  const out = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
    if (problems.length) fail(`${where}: ${problems.join('; ')}`);
    const c = doc.contents;
    if (c == null || (isScalar(c) && c.type === 'PLAIN' && !c.tag && (c.source === '' || c.value == null))) continue;
    out.push(toValue(c, where, opts));
  }
  return out;
}

// --- Go's encoding/json, for the hash -------------------------------------------

function goJson(v) {
  if (v === null) return 'null';
  if (typeof v === 'string') {
    return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) fail(`hashing the non-integer number ${v} is not implemented`);
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return `{${keys.map((k) => `${goJson(k)}:${goJson(v[k])}`).join(',')}}`;
}

// sigs.k8s.io/kustomize/api/hasher: sha256 of Go's JSON encoding of
// {kind, name, data} (plus binaryData if present; for a Secret also type,
// and stringData if present), the first ten hex digits with 0, 1, 3, a, e
// swapped for g, h, k, m, t. The name is always "": the hasher looks it up
// as the single field "metadata/name", which never exists (kubectl 1.32
// agrees: ConfigMap x with data a=b gets x-4h2mbtbbt6). A missing data
// field is "", not null.
export function contentHash(obj) {
  let m;
  const field = (name) => (obj[name] === undefined ? '' : obj[name]);
  const isMapValue = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
  if (obj.kind === 'ConfigMap') {
    m = { kind: 'ConfigMap', name: '', data: field('data') };
    if (isMapValue(obj.binaryData)) m.binaryData = obj.binaryData;
  } else if (obj.kind === 'Secret') {
    m = { kind: 'Secret', type: field('type'), name: '', data: field('data') };
    if (isMapValue(obj.stringData)) m.stringData = obj.stringData;
  } else {
    fail(`hash suffix for kind ${obj.kind} is not implemented`);
  }
  const hex = crypto.createHash('sha256').update(goJson(m), 'utf8').digest('hex');
  const swap = { 0: 'g', 1: 'h', 3: 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((ch) => swap[ch] ?? ch).join('');
}

// kyaml's encodeBase64: 70-character lines, each ending in a newline, once
// the encoding is 70 characters or longer.
function encodeBase64(buf) {
  const enc = buf.toString('base64');
  if (Math.floor(enc.length / 70) + 1 <= 1) return enc;
  let out = '';
  for (let i = 0; i < enc.length; i += 70) out += enc.slice(i, i + 70) + '\n';
  return out;
}

// --- resource identities ----------------------------------------------------------

const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding',
  'CustomResourceDefinition', 'PriorityClass', 'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration', 'APIService', 'CSIDriver', 'CSINode', 'IngressClass',
  'RuntimeClass', 'VolumeAttachment', 'CertificateSigningRequest', 'PodSecurityPolicy',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'FlowSchema',
  'PriorityLevelConfiguration',
]);
const NAMESPACED = new Set([
  'ConfigMap', 'Secret', 'Service', 'ServiceAccount', 'Endpoints', 'EndpointSlice', 'Pod',
  'PodTemplate', 'ReplicationController', 'Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet',
  'Job', 'CronJob', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'NetworkPolicy', 'Ingress',
  'PersistentVolumeClaim', 'LimitRange', 'ResourceQuota', 'Role', 'RoleBinding', 'Lease',
  // The Prometheus Operator's (deploy/k8s/monitoring); kustomize takes any
  // kind it does not know for namespaced.
  'ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'Probe',
]);

function isClusterScoped(kind) {
  if (CLUSTER_SCOPED.has(kind)) return true;
  if (NAMESPACED.has(kind)) return false;
  fail(`kind ${kind}: whether it is namespaced is not known to this renderer`);
}

function splitApiVersion(apiVersion) {
  const i = (apiVersion ?? '').lastIndexOf('/');
  return i < 0 ? { group: '', version: apiVersion ?? '' } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

function effectiveNs(kind, ns) {
  if (isClusterScoped(kind)) return '_non_namespaceable_';
  return ns ? ns : 'default';
}

// A resource as kustomize tracks it: the object plus its build annotations
// (previous ids, generator behavior and hash flag), kept aside.
class Res {
  constructor(obj, origin) {
    this.obj = obj;
    this.origin = origin;
    this.prevIds = [];  // {ns (effective), name, kind}
    this.generated = false;
    this.needsHash = false;
    this.behavior = null;
  }

  get kind() { return this.obj.kind; }
  get name() { return this.obj.metadata.name; }
  get namespace() { return this.obj.metadata.namespace ?? ''; }
  get gv() { return splitApiVersion(this.obj.apiVersion); }

  curId() { return { ...this.gv, kind: this.kind, name: this.name, ns: effectiveNs(this.kind, this.namespace), rawNs: this.namespace }; }

  // Previous ids carry the current group and version.
  allIds() {
    return [...this.prevIds.map((p) => ({ ...this.gv, kind: p.kind, name: p.name, ns: p.ns, rawNs: p.ns })), this.curId()];
  }

  orgId() { return this.prevIds.length ? this.allIds()[0] : this.curId(); }

  storePreviousId() {
    const id = this.curId();
    this.prevIds.push({ ns: id.ns, name: id.name, kind: id.kind });
  }

  describe() { return `${this.kind} ${this.namespace ? `${this.namespace}/` : ''}${this.name} (from ${this.origin})`; }
}

const idEquals = (a, b) => a.ns === b.ns && a.group === b.group && a.version === b.version && a.kind === b.kind && a.name === b.name;

// resid.ResId.IsSelectedBy: exact strings, empty selector fields match all.
function idSelectedBy(id, sel) {
  if (sel.name && sel.name !== id.name) return false;
  if (sel.namespace && sel.namespace !== id.ns) return false;
  if (sel.group && sel.group !== id.group) return false;
  if (sel.version && sel.version !== id.version) return false;
  if (sel.kind && sel.kind !== id.kind) return false;
  return true;
}

// Kubernetes label selectors: equality and existence requirements.
function labelSelectorMatcher(selector, where) {
  if (!selector) return () => true;
  const reqs = selector.split(',').map((r) => r.trim()).filter(Boolean).map((r) => {
    let m;
    if ((m = /^([^!=\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(r))) return { key: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3] };
    if ((m = /^!\s*([^!=\s()]+)$/.exec(r))) return { key: m[1], op: '!exists' };
    if ((m = /^([^!=\s()]+)$/.exec(r))) return { key: m[1], op: 'exists' };
    fail(`${where}: label selector requirement "${r}" is not implemented (only k=v, k==v, k!=v, k, !k)`);
  });
  return (obj) => {
    const labels = obj.metadata?.labels ?? {};
    return reqs.every(({ key, op, value }) => {
      const has = Object.prototype.hasOwnProperty.call(labels, key);
      switch (op) {
        case '=': return has && labels[key] === value;
        case '!=': return !has || labels[key] !== value;
        case 'exists': return has;
        default: return !has;
      }
    });
  };
}

// --- field specs (kustomize's "a/b[]/c" paths) ------------------------------------

function splitFieldSpecPath(p) {
  const parts = [];
  let cur = '';
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '\\' && p[i + 1] === '/') {
      cur += '/';
      i++;
    } else if (p[i] === '/') {
      parts.push(cur);
      cur = '';
    } else {
      cur += p[i];
    }
  }
  parts.push(cur);
  return parts;
}

function fieldSpecMatches(fs, obj) {
  if (fs.kind && fs.kind !== obj.kind) return false;
  const { group, version } = splitApiVersion(obj.apiVersion);
  if (fs.group && fs.group !== group) return false;
  if (fs.version && fs.version !== version) return false;
  return true;
}

// api/filters/fieldspec: walks the path (sequences are walked through
// element by element), creating missing maps when `create` is set, and calls
// set(container, key) on each final slot.
function applyFieldSpec(obj, fs, set, createLeaf, where) {
  if (!fieldSpecMatches(fs, obj)) return;
  const walk = (node, parts, parent, key) => {
    if (parts.length === 0) return set(parent, key);
    if (node === null || node === undefined) return;
    if (Array.isArray(node)) {
      node.forEach((el, i) => walk(el, parts, node, i));
      return;
    }
    if (typeof node !== 'object') fail(`${where}: field spec ${fs.path}: expected sequence or mapping node`);
    const seq = parts[0].endsWith('[]');
    const name = seq ? parts[0].slice(0, -2) : parts[0];
    if (!(name in node) || node[name] === null) {
      // Created only when the spec says so and the caller gave a kind to
      // create (labels: mappings; images: nothing), never through a list.
      if (fs.create && createLeaf && !seq) node[name] = parts.length > 1 ? {} : createLeaf();
      else if (!(name in node)) return;
    }
    walk(node[name], parts.slice(1), node, name);
  };
  walk(obj, splitFieldSpecPath(fs.path), null, null);
}

const METADATA_LABELS_FIELDSPECS = [
  { path: 'metadata/labels', create: true },
  { path: 'spec/template/metadata/labels', create: true, version: 'v1', kind: 'ReplicationController' },
  { path: 'spec/template/metadata/labels', create: true, kind: 'Deployment' },
  { path: 'spec/template/metadata/labels', create: true, kind: 'ReplicaSet' },
  { path: 'spec/template/metadata/labels', create: true, kind: 'DaemonSet' },
  { path: 'spec/template/metadata/labels', create: true, group: 'apps', kind: 'StatefulSet' },
  { path: 'spec/volumeClaimTemplates[]/metadata/labels', create: true, group: 'apps', kind: 'StatefulSet' },
  { path: 'spec/template/metadata/labels', create: true, group: 'batch', kind: 'Job' },
  { path: 'spec/jobTemplate/metadata/labels', create: true, group: 'batch', kind: 'CronJob' },
  { path: 'spec/jobTemplate/spec/template/metadata/labels', create: true, group: 'batch', kind: 'CronJob' },
];

const IMAGE_FIELDSPECS = [
  { path: 'spec/containers[]/image', create: true },
  { path: 'spec/initContainers[]/image', create: true },
  { path: 'spec/template/spec/containers[]/image', create: true },
  { path: 'spec/template/spec/initContainers[]/image', create: true },
];

// kustomize's nameReference configuration for the two kinds generators
// make: every field that names a ConfigMap or a Secret.
const POD_PATHS = {
  Pod: 'spec', PodTemplate: 'template/spec', Deployment: 'spec/template/spec', ReplicaSet: 'spec/template/spec',
  DaemonSet: 'spec/template/spec', StatefulSet: 'spec/template/spec', Job: 'spec/template/spec',
  CronJob: 'spec/jobTemplate/spec/template/spec',
};
function podRefs(fields) {
  return Object.entries(POD_PATHS).flatMap(([kind, base]) => fields.map((f) => ({ kind, path: `${base}/${f}`, ...(kind === 'Pod' ? { version: 'v1' } : {}) })));
}
const NAME_REFERENCES = {
  ConfigMap: [
    ...podRefs(['volumes/configMap/name', 'containers/env/valueFrom/configMapKeyRef/name',
      'initContainers/env/valueFrom/configMapKeyRef/name', 'containers/envFrom/configMapRef/name',
      'initContainers/envFrom/configMapRef/name', 'volumes/projected/sources/configMap/name']),
    { kind: 'Node', path: 'spec/configSource/configMap' },
    { kind: 'Role', path: 'rules/resourceNames' },
    { kind: 'ClusterRole', path: 'rules/resourceNames' },
    { kind: 'Ingress', path: 'metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap' },
  ],
  Secret: [
    ...podRefs(['volumes/secret/secretName', 'containers/env/valueFrom/secretKeyRef/name',
      'initContainers/env/valueFrom/secretKeyRef/name', 'containers/envFrom/secretRef/name',
      'initContainers/envFrom/secretRef/name', 'imagePullSecrets/name', 'volumes/projected/sources/secret/name']),
    { kind: 'Ingress', path: 'spec/tls/secretName' },
    { kind: 'Ingress', path: 'metadata/annotations/ingress.kubernetes.io\\/auth-secret' },
    { kind: 'Ingress', path: 'metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret' },
    { kind: 'Ingress', path: 'metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret' },
    { kind: 'ServiceAccount', path: 'imagePullSecrets/name' },
    { kind: 'StorageClass', path: 'parameters/secretName' },
    { kind: 'StorageClass', path: 'parameters/adminSecretName' },
    { kind: 'StorageClass', path: 'parameters/userSecretName' },
    { kind: 'StorageClass', path: 'parameters/secretRef' },
    { kind: 'Role', path: 'rules/resourceNames' },
    { kind: 'ClusterRole', path: 'rules/resourceNames' },
    { kind: 'Service', group: 'serving.knative.dev', version: 'v1', path: 'spec/template/spec/containers/env/valueFrom/secretKeyRef/name' },
    { kind: 'PersistentVolume', path: 'spec/azureFile/secretName' },
  ],
};

// --- the kustomization file -----------------------------------------------------------

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

function str(v, where, { optional = false } = {}) {
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string') fail(`${where}: expected a string, got ${JSON.stringify(v)} (quote it)`);
  return v;
}
function bool(v, where) {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail(`${where}: expected true or false, got ${JSON.stringify(v)}`);
  return v;
}
function list(v, where) {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(`${where}: expected a list`);
  return v;
}
function object(v, where) {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(`${where}: expected a mapping`);
  return v;
}
function only(obj, allowed, where) {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) fail(`${where}: field "${k}" is not implemented by tests/deploy/lib/kustomize.mjs (supported: ${allowed.join(', ')})`);
  }
}
function stringMap(v, where) {
  const m = object(v, where);
  for (const [k, x] of Object.entries(m)) str(x, `${where}.${k}`);
  return m;
}

// Files a kustomization loads (generator sources, patches, resource files)
// must be in or below its folder: kubectl's default load restriction.
function loadRestricted(root, rel, where) {
  if (/^[a-z]+:\/\//i.test(rel) || rel.startsWith('git@')) fail(`${where}: remote ${rel} is not implemented`);
  const abs = path.resolve(root, rel);
  const real = fs.realpathSync(abs);
  const realRoot = fs.realpathSync(root);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    fail(`${where}: security; file '${abs}' is not in or below '${realRoot}'`);
  }
  return fs.readFileSync(real);
}

function readKustomization(dir) {
  const found = KUSTOMIZATION_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
  if (found.length === 0) fail(`${dir}: no kustomization.yaml`);
  if (found.length > 1) fail(`${dir}: found multiple kustomization files: ${found.join(', ')}`);
  const file = path.join(dir, found[0]);
  const docs = parseYamlStream(fs.readFileSync(file, 'utf8'), file, { yaml11: true });
  if (docs.length !== 1) fail(`${file}: expected one YAML document`);
  const k = object(docs[0], file);
  only(k, ['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'components', 'configMapGenerator', 'secretGenerator',
    'images', 'patches', 'replacements'], file);
  if (k.kind === 'Component') {
    if (k.apiVersion !== 'kustomize.config.k8s.io/v1alpha1') fail(`${file}: apiVersion ${k.apiVersion} is not implemented for a Component`);
  } else {
    if (k.apiVersion !== undefined && k.apiVersion !== 'kustomize.config.k8s.io/v1beta1') fail(`${file}: apiVersion ${k.apiVersion} is not implemented`);
    if (k.kind !== undefined && k.kind !== 'Kustomization') fail(`${file}: kind ${k.kind} is not implemented`);
  }
  return { file, k };
}

// --- generators -----------------------------------------------------------------------

function configMapKeyProblem(key) {
  if (key.length > 253) return 'must be no more than 253 characters';
  if (!/^[-._a-zA-Z0-9]+$/.test(key)) return "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
  if (key === '.' || key === '..' || key.startsWith('..')) return "must not be '.' or '..' or start with '..'";
  return null;
}

function generate(kind, args, dir, where) {
  only(args, kind === 'Secret' ? ['name', 'behavior', 'literals', 'files', 'options', 'type'] : ['name', 'behavior', 'literals', 'files', 'options'], where);
  const name = str(args.name, `${where}.name`);
  const behavior = args.behavior === undefined ? 'create' : str(args.behavior, `${where}.behavior`);
  if (!['create', 'merge'].includes(behavior)) fail(`${where}: behavior ${behavior} is not implemented (create, merge)`);
  const options = args.options === undefined ? {} : object(args.options, `${where}.options`);
  only(options, ['labels'], `${where}.options`);
  // kv.Load: literals, then files (no env files here), as Go strings (bytes).
  const pairs = [];
  for (const [i, lit] of list(args.literals, `${where}.literals`).entries()) {
    const s = str(lit, `${where}.literals[${i}]`);
    if (s.indexOf('=') === 0 || !s.includes('=')) fail(`${where}: invalid literal source ${s}, expected key=value`);
    const key = s.slice(0, s.indexOf('='));
    let value = s.slice(s.indexOf('=') + 1);
    if (value.length >= 2 && value[0] === value[value.length - 1] && (value[0] === '"' || value[0] === "'")) value = value.slice(1, -1);
    pairs.push([key, Buffer.from(value, 'utf8')]);
  }
  for (const [i, src] of list(args.files, `${where}.files`).entries()) {
    const s = str(src, `${where}.files[${i}]`);
    const seps = s.split('=').length - 1;
    let key;
    let file;
    if (seps === 0) [key, file] = [path.posix.basename(s), s];
    else if (seps === 1 && s.startsWith('=')) fail(`${where}: missing key name for file path in source ${s}`);
    else if (seps === 1 && s.endsWith('=')) fail(`${where}: missing file path for key name in source ${s}`);
    else if (seps > 1) fail(`${where}: source ${s} key name or file path contains '='`);
    else [key, file] = s.split('=');
    pairs.push([key, loadRestricted(dir, file, `${where}.files[${i}]`)]);
  }
  const data = {};
  for (const [key, value] of pairs) {
    const problem = configMapKeyProblem(key);
    if (problem) fail(`${where}: key ${key}: ${problem}`);
    if (Object.prototype.hasOwnProperty.call(data, key)) fail(`${where}: configmap ${name} illegally repeats the key \`${key}\``);
    data[key] = value;
  }
  const obj = { apiVersion: 'v1', kind, metadata: { name } };
  const keys = Object.keys(data).sort();
  if (kind === 'ConfigMap') {
    const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    for (const key of keys) {
      let text = null;
      try {
        text = utf8.decode(data[key]);
      } catch {
        text = null;
      }
      if (text !== null) (obj.data ??= {})[key] = text;
      else (obj.binaryData ??= {})[key] = encodeBase64(data[key]);
    }
  } else {
    obj.type = args.type === undefined ? 'Opaque' : str(args.type, `${where}.type`);
    obj.data = {};
    for (const key of keys) obj.data[key] = encodeBase64(data[key]);
  }
  if (options.labels !== undefined) {
    const labels = stringMap(options.labels, `${where}.options.labels`);
    if (Object.keys(labels).length) obj.metadata.labels = { ...labels };
  }
  const res = new Res(obj, where);
  res.generated = true;
  res.needsHash = true;
  res.behavior = behavior;
  return res;
}

// resWrangler.appendReplaceOrMerge
function absorb(resources, res) {
  const id = res.curId();
  const matches = resources.filter((r) => r.allIds().some((x) => idEquals(x, id)));
  if (matches.length === 0) {
    if (res.behavior === 'merge') fail(`${res.origin}: ${res.kind} ${res.name} does not exist; cannot merge`);
    resources.push(res);
    return;
  }
  if (matches.length > 1) fail(`${res.origin}: found multiple objects that could accept merge of ${res.kind} ${res.name}`);
  const old = matches[0];
  if (res.behavior !== 'merge') fail(`${res.origin}: ${res.kind} ${res.name} exists; behavior must be merge or replace`);
  // CopyMergeMetaDataFieldsFrom, MergeDataMapFrom, MergeBinaryDataMapFrom.
  const labels = { ...(old.obj.metadata.labels ?? {}), ...(res.obj.metadata.labels ?? {}) };
  const merged = structuredClone(res.obj);
  if (Object.keys(labels).length) merged.metadata.labels = labels;
  else delete merged.metadata.labels;
  if (old.obj.metadata.annotations !== undefined || res.obj.metadata.annotations !== undefined) {
    fail(`${res.origin}: merging annotations of generated objects is not implemented`);
  }
  merged.metadata.name = old.obj.metadata.name;
  if (old.namespace) merged.metadata.namespace = old.namespace;
  else delete merged.metadata.namespace;
  for (const field of ['data', 'binaryData']) {
    const m = { ...(old.obj[field] ?? {}), ...(res.obj[field] ?? {}) };
    if (Object.keys(m).length) merged[field] = m;
    else delete merged[field];
  }
  if (old.kind === 'Secret' && old.obj.type !== merged.type) fail(`${res.origin}: merging Secrets of different types is not implemented`);
  const out = new Res(merged, res.origin);
  out.prevIds = [...old.prevIds];
  out.generated = true;
  out.needsHash = old.needsHash && res.needsHash;
  out.behavior = old.behavior;
  resources[resources.indexOf(old)] = out;
}

// --- transformers -----------------------------------------------------------------------

function transformNamespace(resources, ns) {
  for (const r of resources) {
    r.storePreviousId();
    if (['RoleBinding', 'ClusterRoleBinding', 'APIService', 'CustomResourceDefinition'].includes(r.kind)) {
      fail(`${r.describe()}: the namespace transformer's handling of ${r.kind} is not implemented`);
    }
    if (!isClusterScoped(r.kind)) r.obj.metadata.namespace = ns;
    if (r.kind === 'Namespace' && r.obj.apiVersion === 'v1') r.obj.metadata.name = ns;
  }
  for (const r of resources) {
    if (resources.filter((o) => idEquals(o.curId(), r.curId())).length !== 1) fail(`namespace transformation produces ID conflict: ${r.describe()}`);
  }
}

function transformLabels(resources, entries, where) {
  for (const [i, entry] of list(entries, where).entries()) {
    const w = `${where}[${i}]`;
    object(entry, w);
    only(entry, ['pairs', 'includeSelectors', 'includeTemplates'], w);
    const pairs = stringMap(entry.pairs ?? {}, `${w}.pairs`);
    if (bool(entry.includeSelectors, `${w}.includeSelectors`)) fail(`${w}: includeSelectors: true is not implemented`);
    const specs = bool(entry.includeTemplates, `${w}.includeTemplates`) ? METADATA_LABELS_FIELDSPECS : [{ path: 'metadata/labels', create: true }];
    if (Object.keys(pairs).length === 0) continue;
    for (const r of resources) {
      for (const key of Object.keys(pairs).sort()) {
        for (const fs of specs) {
          applyFieldSpec(r.obj, fs, (parent, k) => {
            if (parent[k] === null || typeof parent[k] !== 'object' || Array.isArray(parent[k])) fail(`${r.describe()}: ${fs.path} is not a mapping`);
            parent[k][key] = pairs[key];
          }, () => ({}), r.describe());
        }
      }
    }
  }
}

// api/internal/image: name matches as an (unescaped) regular expression.
function imageMatches(value, name) {
  return new RegExp(`^${name}(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9_.{}-]*)?$`).test(value);
}
function imageSplit(image) {
  let searchName = image;
  let slashIndex = image.indexOf('/');
  if (slashIndex > 0) searchName = image.slice(slashIndex);
  else slashIndex = 0;
  let id = searchName.indexOf('@');
  let ic = searchName.indexOf(':');
  if (ic < 0 && id < 0) return { name: image, tag: '', digest: '' };
  if (id >= 0 && (id < ic || ic < 0)) {
    id += slashIndex;
    return { name: image.slice(0, id), tag: '', digest: image.slice(id + 1) };
  }
  if (id >= 0 && ic >= 0) {
    id += slashIndex;
    ic += slashIndex;
    return { name: image.slice(0, ic), tag: image.slice(ic + 1, id), digest: image.slice(id + 1) };
  }
  ic += slashIndex;
  return { name: image.slice(0, ic), tag: image.slice(ic + 1), digest: '' };
}

function transformImages(resources, entries, where) {
  for (const [i, entry] of list(entries, where).entries()) {
    const w = `${where}[${i}]`;
    object(entry, w);
    only(entry, ['name', 'newName', 'newTag'], w);
    const name = str(entry.name, `${w}.name`);
    const newName = str(entry.newName, `${w}.newName`, { optional: true });
    const newTag = str(entry.newTag, `${w}.newTag`, { optional: true });
    const update = (container, key, label) => {
      const value = container[key];
      if (value === null || value === undefined) return;
      if (typeof value !== 'string') fail(`${label}: image is not a string`);
      if (!imageMatches(value, name)) return;
      let { name: n, tag, digest } = imageSplit(value);
      if (newName) n = newName;
      if (newTag) {
        tag = newTag;
        digest = '';
      }
      container[key] = n + (tag ? `:${tag}` : '') + (digest ? `@${digest}` : '');
    };
    for (const r of resources) {
      if (r.kind === 'CustomResourceDefinition') continue;
      // The legacy filter: every containers/initContainers list anywhere.
      const walk = (node) => {
        if (Array.isArray(node)) {
          node.forEach(walk);
        } else if (node && typeof node === 'object') {
          for (const [k, v] of Object.entries(node)) {
            walk(v);
            if ((k === 'containers' || k === 'initContainers') && Array.isArray(v)) {
              for (const c of v) {
                if (c && typeof c === 'object' && !Array.isArray(c) && 'image' in c && c.image !== null) update(c, 'image', r.describe());
              }
            }
          }
        }
      };
      walk(r.obj);
      for (const fs of IMAGE_FIELDSPECS) {
        applyFieldSpec(r.obj, fs, (parent, k) => update(parent, k, r.describe()), null, r.describe());
      }
    }
  }
}

function parseSelector(v, where, allowed) {
  const s = object(v, where);
  only(s, allowed, where);
  for (const [k, x] of Object.entries(s)) str(x, `${where}.${k}`);
  return s;
}

// resWrangler.Select: anchored regular expressions; names and namespaces
// match the original or the current id.
function selectResources(resources, target, where) {
  const re = (p) => (p ? new RegExp(`^(?:${p})$`) : null);
  const [g, v, k, n, ns] = [re(target.group), re(target.version), re(target.kind), re(target.name), re(target.namespace)];
  const labels = labelSelectorMatcher(target.labelSelector, where);
  return resources.filter((r) => {
    const cur = r.curId();
    const org = r.orgId();
    if (ns && !ns.test(org.ns) && !ns.test(cur.ns)) return false;
    if (n && !n.test(org.name) && !n.test(cur.name)) return false;
    if (g && !g.test(cur.group)) return false;
    if (v && !v.test(cur.version)) return false;
    if (k && !k.test(cur.kind)) return false;
    return labels(r.obj);
  });
}

// --- JSON 6902 ----------------------------------------------------------------------------

function pointer(p, where) {
  if (p === '') return [];
  if (!p.startsWith('/')) fail(`${where}: JSON pointer ${p} must start with /`);
  return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function deepEqual(a, b) {
  return canonical(a) === canonical(b);
}

function applyJsonPatch(doc, ops, where) {
  for (const [i, op] of ops.entries()) {
    const w = `${where}[${i}]`;
    object(op, w);
    const parts = pointer(str(op.path, `${w}.path`), w);
    if (parts.length === 0) fail(`${w}: patching the whole document is not implemented`);
    let parent = doc;
    for (const part of parts.slice(0, -1)) {
      if (Array.isArray(parent)) {
        if (!/^(0|[1-9][0-9]*)$/.test(part) || Number(part) >= parent.length) fail(`${w}: ${op.op} operation does not apply: doc is missing path ${op.path}`);
        parent = parent[Number(part)];
      } else if (parent && typeof parent === 'object') {
        if (!Object.prototype.hasOwnProperty.call(parent, part)) fail(`${w}: ${op.op} operation does not apply: doc is missing path ${op.path}`);
        parent = parent[part];
      } else {
        fail(`${w}: ${op.op} operation does not apply: doc is missing path ${op.path}`);
      }
    }
    if (parent === null || typeof parent !== 'object') fail(`${w}: ${op.op} operation does not apply: doc is missing path ${op.path}`);
    const last = parts[parts.length - 1];
    const isArr = Array.isArray(parent);
    const index = (allowEnd) => {
      if (last === '-' && allowEnd) return parent.length;
      if (!/^(0|[1-9][0-9]*)$/.test(last)) fail(`${w}: invalid array index ${last}`);
      const n = Number(last);
      if (n > parent.length || (!allowEnd && n >= parent.length)) fail(`${w}: ${op.op} operation does not apply: index ${n} out of bounds`);
      return n;
    };
    const has = () => (isArr ? true : Object.prototype.hasOwnProperty.call(parent, last));
    switch (op.op) {
      case 'add':
        if (!('value' in op)) fail(`${w}: add needs a value`);
        if (isArr) parent.splice(index(true), 0, structuredClone(op.value));
        else parent[last] = structuredClone(op.value);
        break;
      case 'replace':
        if (!('value' in op)) fail(`${w}: replace needs a value`);
        if (isArr) parent[index(false)] = structuredClone(op.value);
        else if (!has()) fail(`${w}: replace operation does not apply: doc is missing key: ${op.path}`);
        else parent[last] = structuredClone(op.value);
        break;
      case 'remove':
        if (isArr) parent.splice(index(false), 1);
        else if (!has()) fail(`${w}: remove operation does not apply: doc is missing key: ${op.path}`);
        else delete parent[last];
        break;
      case 'test': {
        const current = isArr ? parent[index(false)] : parent[last];
        if (!has() || !deepEqual(current, op.value)) fail(`${w}: testing value ${op.path} failed`);
        break;
      }
      default:
        fail(`${w}: JSON patch operation ${op.op} is not implemented (add, remove, replace, test)`);
    }
  }
}

// --- strategic merge ---------------------------------------------------------------------

// The lists strategic merge merges by key (Kubernetes' patchMergeKey) that
// this renderer knows; any other list present in both the patch and the
// object throws.
const POD_SPEC_PREFIX = {
  Pod: ['spec'], PodTemplate: ['template', 'spec'], Deployment: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'], DaemonSet: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'], Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};
const POD_SPEC_LISTS = { containers: 'name', initContainers: 'name', ephemeralContainers: 'name', volumes: 'name', imagePullSecrets: 'name' };
const CONTAINER_LISTS = { env: 'name', volumeMounts: 'mountPath' };

function mergeKeyFor(kind, p) {
  const prefix = POD_SPEC_PREFIX[kind];
  if (!prefix || p.length <= prefix.length || !prefix.every((s, i) => p[i] === s)) return null;
  const rest = p.slice(prefix.length);
  if (rest.length === 1) return POD_SPEC_LISTS[rest[0]] ?? null;
  if (rest.length === 3 && ['containers', 'initContainers', 'ephemeralContainers'].includes(rest[0]) && rest[1] === '*') return CONTAINER_LISTS[rest[2]] ?? null;
  return null;
}

function checkSmpPatch(v, where) {
  if (v === null) fail(`${where}: null (deletion) in a strategic merge patch is not implemented`);
  if (Array.isArray(v)) {
    if (v.length === 0) fail(`${where}: an empty list in a strategic merge patch is not implemented`);
    v.forEach((x, i) => checkSmpPatch(x, `${where}[${i}]`));
  } else if (typeof v === 'object') {
    if (Object.keys(v).length === 0) fail(`${where}: an empty mapping in a strategic merge patch is not implemented`);
    for (const [k, x] of Object.entries(v)) {
      if (k.startsWith('$')) fail(`${where}: strategic merge directive ${k} is not implemented`);
      checkSmpPatch(x, `${where}.${k}`);
    }
  }
}

function smpMerge(dest, patch, kind, p, where) {
  for (const [k, pv] of Object.entries(patch)) {
    const here = [...p, k];
    const w = `${where}.${k}`;
    if (!(k in dest) || dest[k] === null) {
      dest[k] = structuredClone(pv);
    } else if (Array.isArray(pv)) {
      if (!Array.isArray(dest[k])) fail(`${w}: patch has a list where the object has not`);
      const key = mergeKeyFor(kind, here);
      if (!key) fail(`${w}: merging this list (present in both the patch and ${kind}) is not implemented`);
      // kustomize merges with ListIncreaseDirection "prepend": the patch's
      // elements first (merged into their match), then the object's others.
      const keyOf = (el, side) => {
        if (!el || typeof el !== 'object' || Array.isArray(el) || typeof el[key] !== 'string') fail(`${w}: ${side} list element without a string ${key}`);
        return el[key];
      };
      const patchKeys = pv.map((el) => keyOf(el, 'patch'));
      if (new Set(patchKeys).size !== patchKeys.length) fail(`${w}: the patch repeats a ${key}`);
      const merged = pv.map((el) => {
        const existing = dest[k].find((d) => keyOf(d, 'object') === el[key]);
        if (!existing) return structuredClone(el);
        smpMerge(existing, el, kind, [...here, '*'], `${w}[${key}=${el[key]}]`);
        return existing;
      });
      dest[k] = [...merged, ...dest[k].filter((d) => !patchKeys.includes(d[key]))];
    } else if (pv && typeof pv === 'object') {
      if (!dest[k] || typeof dest[k] !== 'object' || Array.isArray(dest[k])) fail(`${w}: patch has a mapping where the object has not`);
      smpMerge(dest[k], pv, kind, here, w);
    } else {
      dest[k] = pv;
    }
  }
}

function transformPatches(resources, entries, dir, where) {
  for (const [i, entry] of list(entries, where).entries()) {
    const w = `${where}[${i}]`;
    object(entry, w);
    only(entry, ['path', 'patch', 'target'], w);
    if ((entry.path === undefined) === (entry.patch === undefined)) fail(`${w}: give exactly one of patch and path`);
    const text = entry.patch !== undefined
      ? str(entry.patch, `${w}.patch`).trim()
      : loadRestricted(dir, str(entry.path, `${w}.path`), `${w}.path`).toString('utf8');
    if (entry.target === undefined) fail(`${w}: patches without a target are not implemented`);
    const target = parseSelector(entry.target, `${w}.target`, ['group', 'version', 'kind', 'name', 'namespace', 'labelSelector']);
    let docs;
    if (text.trimStart().startsWith('[')) {
      docs = [JSON.parse(text)];
    } else {
      docs = parseYamlStream(text, w);
      // sigs.k8s.io/yaml (go-yaml v2, YAML 1.1) reads JSON patches: refuse
      // the plain scalars it would read differently.
      if (docs.length && Array.isArray(docs[0])) parseYamlStream(text, w, { yaml11: true });
    }
    if (docs.length === 1 && Array.isArray(docs[0])) {
      const ops = docs[0];
      for (const r of selectResources(resources, target, w)) {
        r.storePreviousId();
        const { kind } = r.obj;
        const { name, namespace: ns } = r.obj.metadata;
        applyJsonPatch(r.obj, ops, `${w} on ${r.describe()}`);
        if (r.obj.kind !== kind || r.obj.metadata?.name !== name || r.obj.metadata?.namespace !== ns) {
          fail(`${w}: JSON patches that change kind, name or namespace are not implemented`);
        }
      }
    } else if (docs.length === 1 && docs[0] && typeof docs[0] === 'object') {
      const patch = structuredClone(docs[0]);
      if (typeof patch.kind !== 'string' || typeof patch.metadata?.name !== 'string') fail(`${w}: a strategic merge patch needs kind and metadata.name`);
      checkSmpPatch(patch, w);
      const { labels, annotations } = patch.metadata;
      only(patch.metadata, ['name', 'namespace', 'labels', 'annotations'], `${w}.metadata`);
      delete patch.apiVersion;
      delete patch.kind;
      patch.metadata = {};
      if (labels) patch.metadata.labels = stringMap(labels, `${w}.metadata.labels`);
      if (annotations) fail(`${w}: annotations in a strategic merge patch are not implemented`);
      if (!Object.keys(patch.metadata).length) delete patch.metadata;
      for (const r of selectResources(resources, target, w)) {
        smpMerge(r.obj, patch, r.kind, [], `${w} on ${r.describe()}`);
      }
    } else {
      fail(`${w}: unable to parse a strategic merge or JSON patch (one document)`);
    }
  }
}

// --- replacements --------------------------------------------------------------------------

// kyaml's SmarterPathSplitter: dots split, except inside [...].
function smarterSplit(p) {
  const parts = [];
  let cur = '';
  let depth = 0;
  for (const ch of p) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === '.' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

// Slots (container, key) a replacement path reaches; with create, missing
// mappings and the final field are created.
function pathSlots(obj, fieldPath, create, where) {
  let slots = [{ parent: { root: obj }, key: 'root' }];
  const parts = smarterSplit(fieldPath);
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const next = [];
    for (const { parent, key } of slots) {
      const node = parent[key];
      let m;
      if ((m = /^\[([^=\]]+)=([^\]]*)\]$/.exec(part))) {
        if (!Array.isArray(node)) continue;
        node.forEach((el, idx) => {
          if (el && typeof el === 'object' && String(el[m[1]]) === m[2]) next.push({ parent: node, key: idx });
        });
        if (create && !node.some((el) => el && typeof el === 'object' && String(el[m[1]]) === m[2])) {
          fail(`${where}: creating list elements (${part}) is not implemented`);
        }
        continue;
      }
      if (/^\[.*=.*\]$/.test(part) || part === '*' || part === '-' || /^\[?[0-9]+\]?$/.test(part)) {
        fail(`${where}: path element ${part} is not implemented`);
      }
      const field = part.startsWith('[') && part.endsWith(']') ? part.slice(1, -1) : part;
      if (node === null || node === undefined || typeof node !== 'object' || Array.isArray(node)) continue;
      if (!(field in node) || node[field] === null) {
        if (!create) continue;
        if (!last) node[field] = {};
      }
      next.push({ parent: node, key: field });
    }
    slots = next;
  }
  return slots;
}

function transformReplacements(resources, entries, where) {
  for (const [i, entry] of list(entries, where).entries()) {
    const w = `${where}[${i}]`;
    object(entry, w);
    only(entry, ['source', 'targets'], w);
    const source = object(entry.source, `${w}.source`);
    only(source, ['group', 'version', 'kind', 'name', 'namespace', 'fieldPath', 'options'], `${w}.source`);
    const sel = {};
    for (const k of ['group', 'version', 'kind', 'name', 'namespace']) sel[k] = str(source[k], `${w}.source.${k}`, { optional: true });
    const matches = resources.filter((r) => r.allIds().some((id) => idSelectedBy(id, sel)));
    if (matches.length === 0) fail(`${w}: nothing selected by the source`);
    if (matches.length > 1) fail(`${w}: multiple matches for the source selector`);
    const fieldPath = str(source.fieldPath ?? 'metadata.name', `${w}.source.fieldPath`);
    const found = pathSlots(matches[0].obj, fieldPath, false, `${w}.source`);
    if (found.length !== 1) fail(`${w}: fieldPath \`${fieldPath}\` is missing for replacement source`);
    let value = found[0].parent[found[0].key];
    if (value === null || (typeof value === 'object' && Object.keys(value).length === 0)) {
      fail(`${w}: fieldPath \`${fieldPath}\` is missing for replacement source`);
    }
    if (typeof value !== 'string') fail(`${w}: replacement sources other than strings are not implemented`);
    if (source.options !== undefined) {
      const o = object(source.options, `${w}.source.options`);
      only(o, ['delimiter', 'index'], `${w}.source.options`);
      const delimiter = str(o.delimiter, `${w}.source.options.delimiter`, { optional: true });
      const index = o.index ?? 0;
      if (!Number.isInteger(index)) fail(`${w}.source.options.index: expected an integer`);
      if (delimiter) {
        const parts = value.split(delimiter);
        if (index >= parts.length || index < 0) fail(`${w}: options.index ${index} is out of bounds for value ${value}`);
        value = parts[index];
      }
    }
    for (const [j, t] of list(entry.targets, `${w}.targets`).entries()) {
      const tw = `${w}.targets[${j}]`;
      object(t, tw);
      only(t, ['select', 'fieldPaths', 'options'], tw);
      if (t.select === undefined) fail(`${tw}: target must specify resources to select`);
      const tsel = parseSelector(t.select, `${tw}.select`, ['group', 'version', 'kind', 'name', 'namespace', 'labelSelector']);
      const labels = labelSelectorMatcher(tsel.labelSelector, `${tw}.select`);
      let create = false;
      if (t.options !== undefined) {
        const o = object(t.options, `${tw}.options`);
        only(o, ['create'], `${tw}.options`);
        create = bool(o.create, `${tw}.options.create`);
      }
      const fieldPaths = list(t.fieldPaths ?? ['metadata.name'], `${tw}.fieldPaths`).map((f, k) => str(f, `${tw}.fieldPaths[${k}]`));
      for (const r of resources) {
        if (!labels(r.obj)) continue;
        if (!r.allIds().some((id) => idSelectedBy(id, tsel))) continue;
        for (const fp of fieldPaths) {
          const slots = pathSlots(r.obj, fp, create, `${tw} on ${r.describe()}`);
          if (slots.length === 0) fail(`${tw}: unable to find${create ? ' or create' : ''} field "${fp}" in replacement target ${r.describe()}`);
          for (const { parent, key } of slots) {
            const old = parent[key];
            if (old !== undefined && old !== null && typeof old !== 'string') {
              fail(`${tw}: replacing the non-string ${fp} of ${r.describe()} is not implemented`);
            }
            parent[key] = value;
          }
        }
      }
    }
  }
}

// --- building ---------------------------------------------------------------------------------

function loadResourceFile(dir, rel, where) {
  const text = loadRestricted(dir, rel, where).toString('utf8');
  const file = path.resolve(dir, rel);
  return parseYamlStream(text, file).map((obj, i) => {
    const w = `${file} (document ${i + 1})`;
    if (!obj || typeof obj !== 'object' || Array.isArray(obj)) fail(`${w}: not a mapping`);
    if (typeof obj.kind !== 'string' || !obj.kind) fail(`${w}: missing kind`);
    if (typeof obj.apiVersion !== 'string') fail(`${w}: missing apiVersion`);
    if (!obj.metadata || typeof obj.metadata.name !== 'string' || !obj.metadata.name) fail(`${w}: missing metadata.name`);
    if (obj.kind.endsWith('List') && 'items' in obj) fail(`${w}: ${obj.kind} with items is not implemented`);
    if (obj.metadata.namespace !== undefined && typeof obj.metadata.namespace !== 'string') fail(`${w}: metadata.namespace is not a string`);
    for (const field of ['labels', 'annotations']) {
      const m = obj.metadata[field];
      if (m === undefined) continue;
      if (m === null || typeof m !== 'object' || Array.isArray(m)) fail(`${w}: metadata.${field} is not a mapping`);
      for (const [k, v] of Object.entries(m)) if (typeof v !== 'string') fail(`${w}: metadata.${field}.${k} is not a string (quote it)`);
    }
    if (obj.metadata.annotations?.['config.kubernetes.io/local-config'] !== undefined) fail(`${w}: local-config annotation is not implemented`);
    return new Res(obj, w);
  });
}

// KustTarget.accumulateTarget. A kustomization starts from nothing; a
// component (isComponent) works on `into`, what the kustomization listing
// it has accumulated so far, and adds to it.
function accumulate(dir, stack, { isComponent = false, into = [] } = {}) {
  const real = fs.realpathSync(dir);
  if (stack.includes(real)) fail(`cycle detected: ${[...stack, real].join(' -> ')}`);
  const { file, k } = readKustomization(real);
  if (isComponent && k.kind !== 'Component') fail(`expected kind 'Component' for path '${real}' but got '${k.kind ?? 'Kustomization'}'`);
  if (!isComponent && k.kind === 'Component') fail(`expected kind != 'Component' for path '${real}'`);
  const resources = isComponent ? into : [];
  const add = (r) => {
    if (resources.some((o) => idEquals(o.curId(), r.curId()))) fail(`${file}: may not add resource with an already registered id: ${r.describe()}`);
    resources.push(r);
  };
  for (const [i, rel] of list(k.resources, `${file}: resources`).entries()) {
    const where = `${file}: resources[${i}]`;
    str(rel, where);
    const abs = path.resolve(real, rel);
    if (!fs.existsSync(abs)) fail(`${where}: ${rel} does not exist`);
    if (fs.statSync(abs).isDirectory()) {
      for (const r of accumulate(abs, [...stack, real])) add(r);
    } else {
      for (const r of loadResourceFile(real, rel, where)) add(r);
    }
  }
  for (const [i, rel] of list(k.components, `${file}: components`).entries()) {
    const where = `${file}: components[${i}]`;
    str(rel, where);
    const abs = path.resolve(real, rel);
    if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) fail(`${where}: ${rel} is not a folder`);
    accumulate(abs, [...stack, real], { isComponent: true, into: resources });
  }
  // Generators: ConfigMaps, then Secrets, each absorbed in turn.
  for (const [i, args] of list(k.configMapGenerator, `${file}: configMapGenerator`).entries()) {
    const w = `${file}: configMapGenerator[${i}]`;
    absorb(resources, generate('ConfigMap', object(args, w), real, w));
  }
  for (const [i, args] of list(k.secretGenerator, `${file}: secretGenerator`).entries()) {
    const w = `${file}: secretGenerator[${i}]`;
    absorb(resources, generate('Secret', object(args, w), real, w));
  }
  // Builtin transformers in kustomize's order (those used here).
  transformPatches(resources, k.patches, real, `${file}: patches`);
  if (k.namespace !== undefined && str(k.namespace, `${file}: namespace`) !== '') transformNamespace(resources, k.namespace);
  transformLabels(resources, k.labels, `${file}: labels`);
  transformImages(resources, k.images, `${file}: images`);
  transformReplacements(resources, k.replacements, `${file}: replacements`);
  return resources;
}

// nameReferenceTransformer, for references to ConfigMaps and Secrets.
function fixBackReferences(resources) {
  for (const referrer of resources) {
    const refId = referrer.curId();
    const candidatesInScope = resources.filter((t) => isClusterScoped(referrer.kind) || isClusterScoped(t.kind) || t.curId().ns === refId.ns);
    const org = referrer.orgId();
    for (const [targetKind, specs] of Object.entries(NAME_REFERENCES)) {
      for (const spec of specs) {
        if (spec.kind !== org.kind || (spec.group && spec.group !== org.group) || (spec.version && spec.version !== org.version)) continue;
        const setScalar = (container, key) => {
          const oldName = container[key];
          if (typeof oldName !== 'string') return;
          let c = candidatesInScope.filter((t) => t.prevIds.some((p) => p.name === oldName)
            && t.gv.version === 'v1' && t.prevIds.some((p) => p.kind === targetKind));
          c = c.filter((t) => isClusterScoped(referrer.kind) || isClusterScoped(t.kind) || t.kind === 'ServiceAccount' || t.curId().ns === refId.ns);
          if (c.length === 0) return;
          if (c.length > 1 && !c.every((t) => t.name === c[0].name)) {
            fail(`found multiple possible referrals for ${targetKind} ${oldName} in ${referrer.describe()}: ${c.map((t) => t.describe()).join(', ')}`);
          }
          container[key] = c[0].name;
        };
        applyFieldSpec(referrer.obj, { ...spec, create: false }, (parent, key) => {
          const v = parent[key];
          if (v === null || v === undefined) return;
          if (typeof v === 'string') setScalar(parent, key);
          else if (Array.isArray(v)) v.forEach((el, idx) => { if (typeof el === 'string') setScalar(v, idx); else fail(`${referrer.describe()}: ${spec.path}: name references in mappings are not implemented`); });
          else fail(`${referrer.describe()}: ${spec.path}: name references in mappings are not implemented`);
        }, null, referrer.describe());
      }
    }
  }
}

const ORDER_FIRST = ['Namespace', 'ResourceQuota', 'StorageClass', 'CustomResourceDefinition', 'ServiceAccount',
  'PodSecurityPolicy', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Secret', 'Endpoints',
  'Service', 'LimitRange', 'PriorityClass', 'PersistentVolume', 'PersistentVolumeClaim', 'Deployment', 'StatefulSet',
  'CronJob', 'PodDisruptionBudget'];
const ORDER_LAST = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

function legacyLess(a, b) {
  const rank = (kind) => {
    const i = ORDER_FIRST.indexOf(kind);
    if (i >= 0) return -ORDER_FIRST.length + i;
    const j = ORDER_LAST.indexOf(kind);
    return j >= 0 ? 1 + j : 0;
  };
  const [ga, gb] = [a.curId(), b.curId()];
  const cmp = (x, y) => (x < y ? -1 : x > y ? 1 : 0);
  if (ga.group !== gb.group || ga.version !== gb.version || ga.kind !== gb.kind) {
    if (rank(ga.kind) !== rank(gb.kind)) return rank(ga.kind) - rank(gb.kind);
    const s = (id) => [id.group || '~G', id.version || '~V', id.kind || '~K'].join('_');
    return cmp(s(ga), s(gb));
  }
  const s = (id) => `${id.rawNs || '~X'}|${id.name || '~N'}`;
  return cmp(Buffer.from(s(ga)).toString('latin1'), Buffer.from(s(gb)).toString('latin1'));
}

// Renders the kustomization in `dir` like `kubectl kustomize dir`, as a list
// of plain objects in kubectl's output order.
export function kustomize(dir) {
  const resources = accumulate(path.resolve(dir), []);
  for (const r of resources) {
    if (r.needsHash) {
      const h = contentHash(r.obj);
      r.storePreviousId();
      r.obj.metadata.name = `${r.obj.metadata.name}-${h}`;
    }
  }
  fixBackReferences(resources);
  resources.sort(legacyLess);
  return resources.map((r) => {
    // Removing the build annotations leaves no empty annotations behind.
    const hadBuildAnnotations = r.prevIds.length > 0 || r.generated;
    const a = r.obj.metadata.annotations;
    if (hadBuildAnnotations && (a === null || (a && typeof a === 'object' && Object.keys(a).length === 0))) delete r.obj.metadata.annotations;
    return JSON.parse(JSON.stringify(r.obj));
  });
}

// --- comparing two renderings ----------------------------------------------------------------

export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  return JSON.stringify(v === undefined ? null : v);
}

const objectId = (o) => `${o?.apiVersion} ${o?.kind} ${o?.metadata?.namespace ? `${o.metadata.namespace}/` : ''}${o?.metadata?.name}`;

function diffValues(a, b, at, out, limit, names) {
  if (out.length >= limit) return;
  if (canonical(a) === canonical(b)) return;
  const isObj = (x) => x && typeof x === 'object' && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) diffValues(a[k], b[k], `${at}.${k}`, out, limit, names);
  } else if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diffValues(x, b[i], `${at}[${i}]`, out, limit, names));
  } else {
    const show = (x) => (x === undefined ? '(absent)' : JSON.stringify(x));
    out.push(`${at || '.'}: ${names[0]} ${show(a)}, ${names[1]} ${show(b)}`);
  }
}

// Differences between `expected` (kubectl's) and `actual` (this renderer's)
// renderings, as readable lines; empty when they are deeply equal, in order.
export function diffRenderings(expected, actual, { expectedName = 'kubectl kustomize', actualName = 'kustomize.mjs' } = {}) {
  const problems = [];
  const ids = (list) => list.map(objectId);
  const byId = (list) => new Map(list.map((o) => [objectId(o), o]));
  const [e, a] = [byId(expected), byId(actual)];
  for (const id of e.keys()) if (!a.has(id)) problems.push(`${id}: only in ${expectedName}'s rendering`);
  for (const id of a.keys()) if (!e.has(id)) problems.push(`${id}: only in ${actualName}'s rendering`);
  for (const [id, obj] of e) {
    if (!a.has(id)) continue;
    const lines = [];
    diffValues(obj, a.get(id), '', lines, 20, [expectedName, actualName]);
    if (lines.length) problems.push(`${id} differs:\n  ${lines.join('\n  ')}`);
  }
  if (!problems.length && ids(expected).join('\n') !== ids(actual).join('\n')) {
    problems.push(`same objects, different order:\n  ${expectedName}: ${ids(expected).join(', ')}\n  ${actualName}: ${ids(actual).join(', ')}`);
  }
  return problems;
}

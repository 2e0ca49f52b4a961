// Runs the pods of rendered StatefulSets as local processes, close to what
// the kubelet would do with them: each volume is a folder (ConfigMap and
// Secret volumes filled from the rendered objects, a volumeClaimTemplate
// kept across restarts of the same pod, everything else fresh per start),
// the init containers run to completion in order before the first
// container starts, probes run their exec commands. What cannot be the same
// on one machine is mapped: mount paths to those folders (in the
// environment, the arguments, the probes and the ConfigMap files), and each
// pod's name under its headless Service (NAME-N.SERVICE) to 127.0.0.1 with
// a free port of its own in place of its container port.
//
// Example:
//   const pods = await LocalPods.create(objects, ['accord-redis'], { env: { SENTINEL_WAIT: '3' } });
//   await Promise.all(pods.all().map((p) => pods.start(p)));
//   await pods.waitReady(pods.all(), 30000);
//   await pods.stopAll();

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { find, podTemplate, containerEnv } from './k8s.mjs';
import { track } from './processes.mjs';
import { freePort } from './redis.mjs';

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// Kubernetes' $(VAR) expansion from `env` (unknown names stay as they are).
function expand(text, env) {
  return text.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name) => (env[name] !== undefined ? env[name] : all));
}

function run(argv, env, cwd, timeoutMs) {
  return new Promise((resolve) => {
    const child = track(spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] }));
    let log = '';
    child.stdout.on('data', (d) => { log += d; });
    child.stderr.on('data', (d) => { log += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { log += String(e); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, log });
    });
  });
}

export class LocalPods {
  // objects: the rendered manifests; names: StatefulSets to run; env:
  // values replacing those of the same name in every container's
  // environment (e.g. shorter waits).
  static async create(objects, names, { env = {} } = {}) {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-deploy-pods-'));
    const pods = [];
    for (const name of names) {
      const sts = find(objects, 'StatefulSet', name);
      if (!sts) throw new Error(`no StatefulSet ${name}`);
      const port = podTemplate(sts).spec.containers[0].ports?.[0]?.containerPort;
      for (let i = 0; i < (sts.spec.replicas ?? 1); i++) {
        pods.push({
          sts, ordinal: i, name: `${name}-${i}`, dnsName: `${name}-${i}.${sts.spec.serviceName}`,
          containerPort: port, port: await freePort(), starts: 0, main: null, log: '',
        });
      }
    }
    return new LocalPods(objects, pods, root, env);
  }

  constructor(objects, pods, root, env) {
    this.objects = objects;
    this.pods = pods;
    this.root = root;
    this.overrides = env;
  }

  all(stsName) {
    return this.pods.filter((p) => !stsName || p.sts.metadata.name === stsName);
  }

  // The local "host:port" of a pod's name:port, or the text unchanged.
  mapAddresses(text) {
    let out = text;
    for (const p of this.pods) out = out.replace(new RegExp(`${escape(p.dnsName)}:${p.containerPort}\\b`, 'g'), `127.0.0.1:${p.port}`);
    for (const p of this.pods) out = out.replace(new RegExp(`\\b${escape(p.dnsName)}\\b`, 'g'), '127.0.0.1');
    return out;
  }

  // Where a path in the pod is on this machine (for the current start).
  localPath(pod, podPath) {
    return this.#mapPaths(pod, podPath);
  }

  // Paths under the pod's mount points, in folders of this run.
  #mapPaths(pod, text) {
    // One pass: a mapped path (under the system's /tmp, say) is not mapped
    // again.
    const paths = [...pod.mounts.keys()].sort((a, b) => b.length - a.length);
    const re = new RegExp(`(^|[\\s"'=:])(${paths.map(escape).join('|')})(?=[/\\s"']|$)`, 'gm');
    return text.replace(re, (_, before, mountPath) => `${before}${pod.mounts.get(mountPath)}`);
  }

  // Folders for the pod's volumes; the claim templates' survive restarts.
  #prepare(pod) {
    pod.starts++;
    const spec = podTemplate(pod.sts).spec;
    const podRoot = path.join(this.root, pod.name);
    const runRoot = path.join(podRoot, `run-${pod.starts}`);
    fs.mkdirSync(runRoot, { recursive: true });
    const dirs = new Map();
    for (const claim of pod.sts.spec.volumeClaimTemplates ?? []) {
      const dir = path.join(podRoot, `claim-${claim.metadata.name}`);
      fs.mkdirSync(dir, { recursive: true });
      dirs.set(claim.metadata.name, dir);
    }
    const files = [];
    for (const v of spec.volumes ?? []) {
      const dir = path.join(runRoot, v.name);
      fs.mkdirSync(dir, { recursive: true });
      dirs.set(v.name, dir);
      if (v.configMap) {
        const cm = find(this.objects, 'ConfigMap', v.configMap.name);
        if (!cm) throw new Error(`${pod.name}: ConfigMap ${v.configMap.name} is not in the manifests`);
        for (const [key, value] of Object.entries(cm.data ?? {})) files.push([path.join(dir, key), value]);
      } else if (v.secret) {
        const secret = find(this.objects, 'Secret', v.secret.secretName);
        if (!secret) throw new Error(`${pod.name}: Secret ${v.secret.secretName} is not in the manifests`);
        for (const [key, value] of Object.entries(secret.data ?? {})) {
          fs.writeFileSync(path.join(dir, key), Buffer.from(String(value).replace(/\s+/g, ''), 'base64'));
        }
      } else if (!v.emptyDir) {
        throw new Error(`${pod.name}: volume ${v.name} of this kind is not implemented here`);
      }
    }
    pod.mounts = new Map();
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      for (const m of c.volumeMounts ?? []) {
        const dir = dirs.get(m.name);
        const known = pod.mounts.get(m.mountPath);
        if (known && known !== dir) throw new Error(`${pod.name}: ${m.mountPath} is a different volume in different containers`);
        pod.mounts.set(m.mountPath, dir);
      }
    }
    // ConfigMap files name paths of any container (redis.conf: dir, aclfile).
    for (const [file, text] of files) fs.writeFileSync(file, this.#mapPaths(pod, text));
    pod.runRoot = runRoot;
  }

  #env(pod, c) {
    const env = {};
    for (const e of c.env ?? []) {
      if (e.valueFrom?.fieldRef) {
        if (e.valueFrom.fieldRef.fieldPath !== 'metadata.name') throw new Error(`${pod.name}: fieldRef ${e.valueFrom.fieldRef.fieldPath} is not implemented here`);
        env[e.name] = pod.name;
      }
    }
    for (const [k, v] of Object.entries(containerEnv(c, this.objects))) {
      if (typeof v !== 'string') throw new Error(`${pod.name} ${c.name}: ${k} from a Secret is not implemented here`);
      env[k] = v;
    }
    // In order, as the kubelet expands them.
    for (const e of c.env ?? []) if (typeof env[e.name] === 'string') env[e.name] = expand(env[e.name], env);
    for (const [k, v] of Object.entries(env)) {
      env[k] = v === String(pod.containerPort) ? String(pod.port) : this.#mapPaths(pod, this.mapAddresses(v));
    }
    Object.assign(env, Object.fromEntries(Object.entries(this.overrides).filter(([k]) => k in env)));
    return { ...env, PATH: process.env.PATH };
  }

  #argv(pod, c, argv, env) {
    const own = new RegExp(`(^|[\\s=])${pod.containerPort}(?=\\s|$)`, 'g');
    return argv.map((a) => this.#mapPaths(pod, this.mapAddresses(expand(a, env))).replace(own, `$1${pod.port}`));
  }

  // Init containers, then the first container with `extraArgs` (local
  // settings such as --port); resolves once it runs, rejects with the log
  // of a failed init container.
  async start(pod, { extraArgs = [], beforeMain } = {}) {
    this.#prepare(pod);
    const spec = podTemplate(pod.sts).spec;
    for (const c of spec.initContainers ?? []) {
      const env = this.#env(pod, c);
      const result = await run(this.#argv(pod, c, [...(c.command ?? []), ...(c.args ?? [])], env), env, pod.runRoot, 120000);
      pod.log += result.log;
      if (result.code !== 0) throw new Error(`${pod.name}: init container ${c.name} failed (${result.code ?? result.signal}):\n${result.log}`);
    }
    await beforeMain?.(pod);
    const c = spec.containers[0];
    const env = this.#env(pod, c);
    const argv = [...this.#argv(pod, c, [...(c.command ?? []), ...(c.args ?? [])], env), ...extraArgs];
    const child = track(spawn(argv[0], argv.slice(1), { env, cwd: pod.runRoot, stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout.on('data', (d) => { pod.log += d; });
    child.stderr.on('data', (d) => { pod.log += d; });
    pod.main = child;
    pod.exited = new Promise((resolve) => child.on('exit', resolve));
    return pod;
  }

  // Does the first container's probe pass now?
  async probe(pod, which = 'readinessProbe') {
    const c = podTemplate(pod.sts).spec.containers[0];
    const exec = c[which]?.exec?.command;
    if (!exec) throw new Error(`${pod.name}: ${which} is not an exec probe`);
    const env = this.#env(pod, c);
    const result = await run(this.#argv(pod, c, exec, env), env, pod.runRoot, (c[which].timeoutSeconds ?? 1) * 1000);
    return result.code === 0;
  }

  // Resolves to the pods not ready within timeoutMs (empty: all ready).
  async waitReady(pods, timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let pending = [...pods];
    while (pending.length && Date.now() < deadline) {
      const ready = await Promise.all(pending.map((p) => this.probe(p)));
      pending = pending.filter((_, i) => !ready[i]);
      if (pending.length) await new Promise((r) => setTimeout(r, 500));
    }
    return pending;
  }

  async kill(pod, signal = 'SIGKILL') {
    if (pod.main && pod.main.exitCode === null && pod.main.signalCode === null) pod.main.kill(signal);
    await pod.exited;
  }

  async stopAll() {
    await Promise.all(this.pods.filter((p) => p.main).map((p) => this.kill(p, 'SIGTERM')));
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

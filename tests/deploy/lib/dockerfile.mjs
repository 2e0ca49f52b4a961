// A static reading of deploy/docker/Dockerfile: no Docker engine runs here,
// so the rules an image build would reveal are checked on the text.

export const SERVICES = ['institution', 'agreement', 'notification'];

// Shared libraries the binaries link, by Debian 12 runtime package.
export const RUNTIME_PACKAGES = [
  'libgrpc++1.51', 'libprotobuf32', 'libabsl20220623', 'libhiredis0.14',
  'libcpp-httplib0.11', 'libicu72', 'libssl3',
];
const ALLOWED_EXTRA = new Set(['ca-certificates']);

export function parseDockerfile(text) {
  const lines = text.split('\n');
  const instructions = [];
  let buffer = '';
  let start = 0;
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!buffer && (/^\s*#/.test(line) || !line.trim())) return;
    if (buffer && /^\s*#/.test(line)) return;  // comments inside continuations
    if (!buffer) start = i + 1;
    if (/\\\s*$/.test(line)) {
      buffer += `${line.replace(/\\\s*$/, '')} `;
      return;
    }
    buffer += line;
    const m = /^\s*(\w+)\s+([\s\S]*)$/.exec(buffer);
    if (m) instructions.push({ cmd: m[1].toUpperCase(), args: m[2].trim(), line: start });
    buffer = '';
  });
  const stages = [];
  for (const ins of instructions) {
    if (ins.cmd === 'FROM') {
      const words = ins.args.split(/\s+/).filter((w) => !w.startsWith('--'));
      const asAt = words.findIndex((w) => w.toLowerCase() === 'as');
      stages.push({ base: words[0], name: asAt >= 0 ? words[asAt + 1] : undefined, instructions: [], line: ins.line });
    } else if (stages.length) {
      stages[stages.length - 1].instructions.push(ins);
    }
  }
  return { instructions, stages };
}

function chain(stages, stage) {
  const out = [stage];
  let current = stage;
  for (;;) {
    const parent = stages.find((s) => s.name && s.name === current.base && s !== current);
    if (!parent || out.includes(parent)) break;
    out.push(parent);
    current = parent;
  }
  return out;  // the stage first, its root last
}

function aptInstalls(stage) {
  const packages = [];
  const flags = [];
  for (const ins of stage.instructions.filter((i) => i.cmd === 'RUN')) {
    for (const m of ins.args.matchAll(/apt-get\s+install\s+([^&;|]*)/g)) {
      for (const word of m[1].split(/\s+/).filter(Boolean)) {
        if (word.startsWith('-')) flags.push(word);
        else packages.push(word);
      }
    }
  }
  return { packages, flags };
}

export function runtimePackages(model, target) {
  const stage = model.stages.find((s) => s.name === target);
  return stage ? chain(model.stages, stage).flatMap((s) => aptInstalls(s).packages) : [];
}

// grpcPorts: {institution: 50051, ...} from the manifests, to cross-check.
export function lintDockerfile(text, { grpcPorts = {}, dockerignore } = {}) {
  const problems = [];
  const model = parseDockerfile(text);
  const { stages } = model;
  if (stages.length < 2) problems.push('Dockerfile must be multi-stage (build and runtime)');
  for (const s of stages) {
    const known = stages.some((o) => o.name === s.base && o !== s);
    if (!known && !/^debian:12(-slim)?(@sha256:[0-9a-f]{64})?$/.test(s.base)) {
      problems.push(`line ${s.line}: FROM ${s.base} is not debian:12 or debian:12-slim`);
    }
  }
  for (const ins of model.instructions) {
    if (ins.cmd === 'ADD') problems.push(`line ${ins.line}: use COPY, not ADD`);
    if (/:latest\b/.test(ins.args)) problems.push(`line ${ins.line}: no :latest`);
  }
  const build = stages.find((s) => s.instructions.some((i) => i.cmd === 'RUN' && /cmake --build/.test(i.args)));
  if (!build) problems.push('no stage builds with cmake');
  else {
    if (!/^debian:12(@|$)/.test(build.base)) problems.push(`build stage must be FROM debian:12, not ${build.base}`);
    if (!build.instructions.some((i) => i.cmd === 'RUN' && /scripts\/install-deps\.sh/.test(i.args))) {
      problems.push('build stage must install its packages with scripts/install-deps.sh');
    }
  }
  for (const service of SERVICES) {
    const stage = stages.find((s) => s.name === service);
    if (!stage) {
      problems.push(`no target stage "${service}"`);
      continue;
    }
    const lineage = chain(stages, stage);
    const root = lineage[lineage.length - 1];
    if (!/^debian:12-slim(@|$)/.test(root.base)) problems.push(`target ${service} must run on debian:12-slim, not ${root.base}`);
    if (lineage.includes(build)) problems.push(`target ${service} must not inherit the build stage`);
    // USER is inherited along FROM <stage>; the nearest one wins.
    const user = lineage.map((s) => [...s.instructions].reverse().find((i) => i.cmd === 'USER')).find(Boolean);
    const m = /^(\d+)(?::(\d+))?$/.exec(user?.args ?? '');
    if (!m) problems.push(`target ${service}: USER must be a numeric uid[:gid], got "${user?.args ?? 'none (root)'}"`);
    else if (Number(m[1]) === 0 || (m[2] !== undefined && Number(m[2]) === 0)) problems.push(`target ${service}: USER must not be root`);
    const installs = lineage.flatMap((s) => {
      const { packages, flags } = aptInstalls(s);
      if (packages.length && !flags.includes('--no-install-recommends')) {
        problems.push(`stage ${s.name}: apt-get install needs --no-install-recommends`);
      }
      return packages;
    });
    for (const p of installs) {
      if (/-dev$/.test(p)) problems.push(`target ${service}: installs development package ${p}`);
      else if (!RUNTIME_PACKAGES.includes(p) && !ALLOWED_EXTRA.has(p)) problems.push(`target ${service}: installs ${p}, not a runtime library`);
    }
    for (const p of RUNTIME_PACKAGES) {
      if (!installs.includes(p)) problems.push(`target ${service}: does not install ${p}`);
    }
    const binary = `/usr/local/bin/accord-${service}`;
    const copies = stage.instructions.filter((i) => i.cmd === 'COPY' && /--from=/.test(i.args));
    if (!copies.some((i) => i.args.includes(`accord-${service}`) && i.args.includes(binary))) {
      problems.push(`target ${service}: must COPY --from the build stage only accord-${service} to ${binary}`);
    }
    if (copies.some((i) => SERVICES.some((o) => o !== service && i.args.includes(`accord-${o}`)))) {
      problems.push(`target ${service}: copies another service's binary`);
    }
    const entry = [...stage.instructions].reverse().find((i) => i.cmd === 'ENTRYPOINT');
    let parsed;
    try {
      parsed = JSON.parse(entry?.args ?? '');
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || parsed[0] !== binary) {
      problems.push(`target ${service}: ENTRYPOINT must be the exec form ["${binary}"] (there is no shell)`);
    }
    const env = lineage.flatMap((s) => s.instructions.filter((i) => i.cmd === 'ENV')).map((i) => i.args).join(' ');
    const listen = /ACCORD_LISTEN=\S*:(\d+)/.exec(env);
    const exposed = stage.instructions.filter((i) => i.cmd === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)).map((p) => Number(p.split('/')[0]));
    if (!listen) problems.push(`target ${service}: set ENV ACCORD_LISTEN to all addresses`);
    else {
      if (!exposed.includes(Number(listen[1]))) problems.push(`target ${service}: EXPOSE the gRPC port ${listen[1]}`);
      if (grpcPorts[service] !== undefined && grpcPorts[service] !== Number(listen[1])) {
        problems.push(`target ${service}: listens on ${listen[1]} but the Deployment's grpc port is ${grpcPorts[service]}`);
      }
    }
  }
  if (dockerignore === undefined) problems.push('no Dockerfile.dockerignore beside the Dockerfile');
  else {
    const patterns = dockerignore.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const must of [/^\.git\/?$/, /node_modules/, /^\/?build/]) {
      if (!patterns.some((p) => must.test(p))) problems.push(`Dockerfile.dockerignore should exclude ${must.source}`);
    }
  }
  return { problems, model };
}

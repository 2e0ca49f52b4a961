// Runs a service binary with the environment a manifest gives it and waits
// for it to report ready on /metrics.

import { spawn } from 'node:child_process';
import http from 'node:http';

// Keep-alive, as Prometheus scrapes: an idle scrape connection is part of
// what a shutdown has to close.
const keepAlive = new http.Agent({ keepAlive: true });

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: keepAlive }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
    req.setTimeout(2000, () => req.destroy());
  });
}

// Children still running when this process exits (a crash in the
// checker, say) are killed rather than left behind.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
export function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

export function startService(binary, env) {
  const child = track(spawn(binary, [], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  const proc = { child, log: '', address: undefined, metricsPort: undefined };
  const onData = (d) => {
    proc.log += d;
    for (const line of String(d).split('\n')) {
      try {
        const entry = JSON.parse(line);
        if (entry.msg === 'listening') {
          proc.address = entry.address;
          proc.metricsPort = Number(entry.metrics_port);
        }
      } catch {
        const m = /msg=listening.*address=(\S+).*metrics_port=(\d+)/.exec(line);
        if (m) {
          proc.address = m[1];
          proc.metricsPort = Number(m[2]);
        }
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.on('error', (e) => { proc.log += String(e); });
  proc.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return proc;
}

export async function waitReady(proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null) return false;
    if (proc.metricsPort) {
      const body = await get(`http://127.0.0.1:${proc.metricsPort}/metrics`);
      if (/^accord_ready(\{\})? 1$/m.test(body)) return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

// SIGTERM, then the exit status, or 'timeout' (and SIGKILL) after timeoutMs.
export async function terminate(proc, timeoutMs) {
  if (proc.child.exitCode !== null) return proc.exited;
  proc.child.kill('SIGTERM');
  const timer = new Promise((r) => setTimeout(() => r('timeout'), timeoutMs));
  const result = await Promise.race([proc.exited, timer]);
  if (result === 'timeout') {
    proc.child.kill('SIGKILL');
    await proc.exited;
  }
  return result;
}

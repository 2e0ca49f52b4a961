// A real redis-server started from the rendered dev configuration, and a
// minimal RESP2 client to try each ACL user's permissions against it.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { track } from './processes.mjs';

export class RedisError extends Error {}

export class RespClient {
  static connect(port) {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: '127.0.0.1', port }, () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  constructor(socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    this.buffer = Buffer.alloc(0);
    this.waiting = [];
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        const parsed = this.#parse(0);
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this.waiting.shift()?.(parsed.value);
      }
    });
    socket.on('error', () => {});
  }

  // Resolves to the reply; error replies resolve to a RedisError.
  command(...args) {
    const parts = [`*${args.length}\r\n`];
    for (const a of args) {
      const b = Buffer.from(String(a));
      parts.push(`$${b.length}\r\n`, b, '\r\n');
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${args[0]}`)), 5000);
      this.waiting.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
      // One write: separate small writes meet Nagle + delayed ACK (~40ms).
      this.socket.write(Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p)))));
    });
  }

  close() {
    this.socket.destroy();
  }

  #parse(at) {
    const eol = this.buffer.indexOf('\r\n', at);
    if (eol < 0) return null;
    const type = String.fromCharCode(this.buffer[at]);
    const line = this.buffer.toString('utf8', at + 1, eol);
    const next = eol + 2;
    switch (type) {
      case '+': return { value: line, end: next };
      case '-': return { value: new RedisError(line), end: next };
      case ':': return { value: Number(line), end: next };
      case '$': {
        const n = Number(line);
        if (n < 0) return { value: null, end: next };
        if (this.buffer.length < next + n + 2) return null;
        return { value: this.buffer.toString('utf8', next, next + n), end: next + n + 2 };
      }
      case '*': {
        const n = Number(line);
        if (n < 0) return { value: null, end: next };
        const items = [];
        let end = next;
        for (let i = 0; i < n; i++) {
          const item = this.#parse(end);
          if (!item) return null;
          items.push(item.value);
          end = item.end;
        }
        return { value: items, end };
      }
      default:
        throw new Error(`bad RESP type ${type}`);
    }
  }
}

// A TCP port free on 127.0.0.1 now (lib/pods.mjs uses it too).
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

// Starts redis-server with the rendered redis.conf and ACL file. Command-line
// options after the file override it: loopback, a free port, a temp dir.
export async function startRedis({ conf, acl, appendfsync, redisServer = 'redis-server' }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'accord-deploy-redis-'));
  // Redis applies the file before the command line, so a "dir" that does
  // not exist here fails before --dir could override it: point both paths
  // at the temp dir in the file itself.
  const localConf = conf
    .replace(/^\s*dir\s.*$/m, `dir ${dir}`)
    .replace(/^\s*aclfile\s.*$/m, `aclfile ${path.join(dir, 'users.acl')}`);
  fs.writeFileSync(path.join(dir, 'redis.conf'), localConf);
  fs.writeFileSync(path.join(dir, 'users.acl'), acl);
  const port = await freePort();
  const args = [
    path.join(dir, 'redis.conf'),
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir,
    '--aclfile', path.join(dir, 'users.acl'), '--appendfsync', appendfsync,
    '--save', '', '--daemonize', 'no',
  ];
  const child = track(spawn(redisServer, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.on('error', (e) => { log += String(e); });
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    if (/Ready to accept connections|ready to accept connections/.test(log)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  if (child.exitCode !== null || !/ready to accept connections/i.test(log)) {
    await stop();
    throw new Error(`redis-server did not start:\n${log.split('\n').slice(-5).join('\n')}`);
  }
  return { port, stop, log: () => log };
}

// A Function library from common/redis/lua/, as the services load it: the
// text cmake/embed_lua.cmake embeds (a version from the file's SHA-256 in
// every name). `name` is the first function it registers; fn(base) names
// any of them.
export function luaLibrary(luaPath, library) {
  const body = fs.readFileSync(luaPath, 'utf8');
  const version = crypto.createHash('sha256').update(body).digest('hex').slice(0, 12);
  const code = `#!lua name=${library}_${version}\nlocal VERSION = '_${version}'\n${body}`;
  const first = /redis\.register_function\('([^']+)'/.exec(body)?.[1];
  if (!first) throw new Error(`no redis.register_function in ${luaPath}`);
  const fn = (base) => `${base}_${version}`;
  return { code, library: `${library}_${version}`, name: fn(first), fn };
}

// Starts the demo binary (`target/debug/switchboard-app`, built by cargo beforehand) on a
// free loopback port with a fixed development secret (Demo.toml's dev_secret), so tokens
// survive a restart.

import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** A fixed HMAC secret (32+ bytes): tokens issued before a restart stay valid. */
export const SECRET = 'switchboard-e2e-secret-0123456789abcdef';
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

/** The demo binary: $SWITCHBOARD_APP_BIN, or cargo's debug build. */
export function appBinary() {
  if (process.env.SWITCHBOARD_APP_BIN) return process.env.SWITCHBOARD_APP_BIN;
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(ROOT, 'target');
  return path.join(target, 'debug', 'switchboard-app');
}

/** A port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (probe.address());
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The environment a demo inherits: ours without any `SWITCHBOARD*` variable. A shell
 * that exported, say, `SWITCHBOARD__BACKPLANE__KIND=redis` (as the README's scale-out
 * section suggests) would otherwise make every test depend on a Redis at 6379.
 */
export function inheritedEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('SWITCHBOARD')));
}

/** Every child still running: killed however the test process ends. */
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(130));
}

/** The demo server, started and stopped on one port. */
export class DemoServer {
  /**
   * @param {{port?: number, secret?: string, env?: Record<string, string>}} [options]
   */
  constructor(options = {}) {
    this.port = options.port ?? 0;
    this.secret = options.secret ?? SECRET;
    this.env = options.env ?? {};
    /** @type {import('node:child_process').ChildProcess | null} */
    this.child = null;
  }

  get http() {
    return `http://127.0.0.1:${this.port}`;
  }

  get ws() {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Starts the binary; resolves once it listens. */
  async start() {
    if (!this.port) this.port = await freePort();
    const child = spawn(appBinary(), [], {
      cwd: ROOT,
      env: {
        ...inheritedEnv(),
        RUST_LOG: process.env.RUST_LOG ?? 'warn',
        SWITCHBOARD__SERVER__BIND: `127.0.0.1:${this.port}`,
        SWITCHBOARD__SERVER__WORKERS: '2',
        SWITCHBOARD_DEMO__DEV_SECRET: this.secret,
        ...this.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    this.child = child;
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    await new Promise((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => fail(new Error(`demo did not start in ${START_TIMEOUT_MS} ms\n${stderr}`)), START_TIMEOUT_MS);
      const fail = (error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(error);
      };
      child.on('error', (error) => fail(new Error(`cannot run ${appBinary()}: ${error.message} (cargo build -p switchboard-app first)`)));
      child.on('exit', (code) => fail(new Error(`demo exited with ${code} before listening\n${stderr}`)));
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('Switchboard demo on')) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          child.on('exit', () => children.delete(child));
          resolve(undefined);
        }
      });
    });
    return this;
  }

  /** Kills the process (the demo handles no signals: like a crash or a deploy). */
  async stop() {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    children.delete(child);
  }

  /**
   * Freezes the process (SIGSTOP) and resolves once the kernel reports it stopped:
   * `kill` only queues the signal, and a server thread on the other core may still
   * answer a packet sent in between.
   */
  async freeze() {
    const pid = this.child?.pid;
    this.child?.kill('SIGSTOP');
    const state = async () => (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '')[0];
    await until(async () => (await state()) === 'T', 5_000, `demo ${pid} stopped`);
  }

  /** `POST /api/token`: `{token, user, expires_in}`. */
  async token(name) {
    const response = await fetch(`${this.http}/api/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    if (!response.ok) throw new Error(`token for ${name}: HTTP ${response.status}`);
    return response.json();
  }

  /**
   * `POST` a JSON body to a path of the demo, signed in as `options.as` (a user name:
   * a fresh dev token goes in `Authorization: Bearer`) or with `options.bearer`.
   * @param {string} pathname
   * @param {unknown} body
   * @param {{as?: string, bearer?: string}} [options]
   */
  async post(pathname, body, options = {}) {
    const bearer = options.bearer ?? (options.as ? (await this.token(options.as)).token : null);
    const response = await fetch(`${this.http}${pathname}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: await response.json().catch(() => null) };
  }
}

/**
 * Resolves with the first value `subscribe(callback)` delivers, or rejects after
 * `timeout` ms. `subscribe` returns its own unsubscribe function.
 * @template T
 * @param {(callback: (value: T) => void) => () => void} subscribe
 * @param {number} [timeout]
 * @param {string} [what]
 * @returns {Promise<T>}
 */
export function next(subscribe, timeout = 5_000, what = 'event') {
  return new Promise((resolve, reject) => {
    let stop = () => {};
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no ${what} within ${timeout} ms`));
    }, timeout);
    stop = subscribe((value) => {
      clearTimeout(timer);
      stop();
      resolve(value);
    });
  });
}

/** Resolves when `predicate()` holds, polling; rejects after `timeout` ms. */
export async function until(predicate, timeout = 5_000, what = 'condition') {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A PostgreSQL server of the test's own: initdb into a temporary directory, pg_ctl on a
// free port (as the postgres user when the tests run as root: PostgreSQL refuses root),
// stopped and removed by `stop()` or when the test process exits.

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort } from './server.js';

const asRoot = process.getuid?.() === 0;

/** Where initdb and pg_ctl are: on the PATH, or Debian's versioned directory. */
function binDir() {
  const candidates = [...(process.env.PATH ?? '').split(':')];
  if (existsSync('/usr/lib/postgresql')) {
    for (const version of readdirSync('/usr/lib/postgresql')) candidates.push(`/usr/lib/postgresql/${version}/bin`);
  }
  const found = candidates.find((dir) => dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl')));
  if (!found) throw new Error('initdb and pg_ctl not found (scripts/test.sh installs postgresql)');
  return found;
}

const running = new Set();
process.on('exit', () => {
  for (const server of running) server.stop();
});

export class PostgresServer {
  async start() {
    this.port = await freePort();
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'switchboard-e2e-pg-'));
    this.bin = binDir();
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
      chownSync(this.dir, uid, gid);
    }
    const data = path.join(this.dir, 'data');
    this._run('initdb', ['-D', data, '--auth=trust', '-U', 'postgres', '-E', 'UTF8']);
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    this._run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(this.dir, 'log'), '-w', 'start']);
    running.add(this);
    return this;
  }

  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  get url() {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Runs SQL with the psql client, as any client of the database would. */
  psql(sql) {
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-U', 'postgres', '-p', String(this.port), '-d', 'postgres', '-c', sql], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  stop() {
    if (!running.delete(this)) return;
    try {
      this._run('pg_ctl', ['-D', path.join(this.dir, 'data'), '-m', 'immediate', 'stop']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  _run(program, args) {
    const file = path.join(this.bin, program);
    const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    execFileSync(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  }
}

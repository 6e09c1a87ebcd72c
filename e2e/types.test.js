// The typed client: the npm package (framework/static: package.json, switchboard.d.ts)
// and the declarations the demo generates (`switchboard-app typescript PATH`), checked
// by the TypeScript compiler. A consumer's project is laid out in a temporary directory:
// the package under node_modules/switchboard-client, the generated app.d.ts, and the
// files of e2e/typescript/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ts from 'typescript';

import { ROOT, appBinary, inheritedEnv } from './support/server.js';

const run = promisify(execFile);
const T = { timeout: 120_000 };
const PACKAGE = path.join(ROOT, 'framework', 'static');
const FIXTURES = path.join(ROOT, 'e2e', 'typescript');
const TSC = path.join(ROOT, 'e2e', 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs the demo's generator; resolves with what it wrote to standard output. */
async function generate(target) {
  const { stdout } = await run(appBinary(), ['typescript', target], { env: inheritedEnv() });
  return stdout;
}

/** `tsc --noEmit --strict` over `files` in `dir`: the exit code and every diagnostic line. */
async function typecheck(dir, files) {
  const args = [
    TSC,
    '--noEmit',
    '--strict',
    '--target', 'es2022',
    '--module', 'esnext',
    '--moduleResolution', 'bundler',
    '--lib', 'es2022,dom',
    ...files,
  ];
  try {
    await run(process.execPath, args, { cwd: dir });
    return { code: 0, errors: [] };
  } catch (error) {
    if (typeof error.code !== 'number') throw error;
    const errors = String(error.stdout).split('\n').filter((line) => line.includes('error TS'));
    return { code: error.code, errors };
  }
}

describe('the typed client', () => {
  let project;

  before(async () => {
    project = await mkdtemp(path.join(os.tmpdir(), 'switchboard-types-'));
    await mkdir(path.join(project, 'node_modules'));
    await symlink(PACKAGE, path.join(project, 'node_modules', 'switchboard-client'), 'dir');
    for (const file of await readdir(FIXTURES)) {
      await copyFile(path.join(FIXTURES, file), path.join(project, file));
    }
    await generate(path.join(project, 'app.d.ts'));
  });

  after(async () => {
    if (project) await rm(project, { recursive: true, force: true });
  });

  it('the generator writes every channel, its events and payload types, the same each time', T, async () => {
    const written = await readFile(path.join(project, 'app.d.ts'), 'utf8');
    assert.equal(await generate('-'), written);
    for (const expected of [
      '"room.{id}": {\n    name: `room.${string}`;',
      'emits: { "message": Posted | RoomMessage | SignalData };',
      'handles: { "message": ChatMessage };',
      'acks: { "echo": null; "private-message": Receipt };',
      'emits: { "notification": Notification; "pong-back": JsonValue };',
      'export type Posted = {',
      'export interface App {',
    ]) {
      assert.ok(written.includes(expected), `${expected} in\n${written}`);
    }
  });

  it('typed and untyped use of the client typecheck under --strict', T, async () => {
    const { code, errors } = await typecheck(project, ['typed.ts', 'untyped.ts']);
    assert.deepEqual(errors, []);
    assert.equal(code, 0);
  });

  it('a wrong payload field, event field or channel name does not, and the error names it', T, async () => {
    const expected = {
      'wrong-payload-field.ts': "Property 'text' does not exist on type 'Posted'",
      'wrong-emit-field.ts': "'text' does not exist in type 'ChatMessage'",
      'unknown-channel.ts': 'Argument of type \'"rooms.42"\' is not assignable',
    };
    const { code, errors } = await typecheck(project, Object.keys(expected));
    assert.notEqual(code, 0);
    for (const [file, message] of Object.entries(expected)) {
      const found = errors.filter((line) => line.startsWith(`${file}(`));
      assert.equal(found.length, 1, `one error in ${file}:\n${errors.join('\n')}`);
      assert.ok(found[0].includes(message), `${file}: expected "${message}", got ${found[0]}`);
    }
  });
});

describe('the npm package', () => {
  /** The exports of `file` that are values (classes, functions, variables), by name. */
  function valueExports(file, options) {
    const program = ts.createProgram([file], { noEmit: true, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], ...options });
    const checker = program.getTypeChecker();
    const source = program.getSourceFile(file);
    const module = source && checker.getSymbolAtLocation(source);
    assert.ok(module, `${file} is a module`);
    const values = new Map();
    for (const symbol of checker.getExportsOfModule(module)) {
      if (symbol.flags & ts.SymbolFlags.Value) values.set(symbol.getName(), { symbol, checker });
    }
    return values;
  }

  /** The public instance members of an exported class (not `_private` ones). */
  function publicMembers({ symbol, checker }) {
    if (!(symbol.flags & ts.SymbolFlags.Class)) return [];
    return checker
      .getDeclaredTypeOfSymbol(symbol)
      .getProperties()
      .map((member) => member.getName())
      .filter((name) => !name.startsWith('_'))
      .sort();
  }

  it('switchboard.d.ts declares every export of switchboard.js, and every public member', T, () => {
    const js = valueExports(path.join(PACKAGE, 'switchboard.js'), { allowJs: true, checkJs: false });
    const dts = valueExports(path.join(PACKAGE, 'switchboard.d.ts'), {});
    assert.deepEqual([...dts.keys()].sort(), [...js.keys()].sort());
    for (const [name, exported] of js) {
      assert.deepEqual(publicMembers(dts.get(name)), publicMembers(exported), `members of ${name}`);
    }
  });

  it('packs just the module, its types, the README and package.json, at the workspace version', T, async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: PACKAGE });
    const [packed] = JSON.parse(stdout);
    assert.deepEqual(packed.files.map((file) => file.path).sort(), [
      'README.md',
      'package.json',
      'switchboard.d.ts',
      'switchboard.js',
    ]);
    const cargo = await readFile(path.join(ROOT, 'Cargo.toml'), 'utf8');
    const workspaceVersion = /\[workspace\.package\][^[]*?\nversion = "([^"]+)"/.exec(cargo)?.[1];
    assert.equal(packed.version, workspaceVersion);
    assert.equal(packed.name, 'switchboard-client');
  });
});

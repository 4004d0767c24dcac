// The hand-written declarations (types/index.d.ts) and the built package agree, in both module systems.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import * as esm from 'ifmatch';

const require = createRequire(import.meta.url);
const run = promisify(execFile);
const cjs = require('ifmatch');
const declarations = readFileSync(new URL('../../types/index.d.ts', import.meta.url), 'utf8');

const declaredValues = [...declarations.matchAll(/^export (?:declare )?(?:class|function|const) (\w+)/gm)].map((m) => m[1]).sort();
const classBody = declarations.slice(declarations.indexOf('export class Client'));
const declaredMethods = [...classBody.slice(0, classBody.indexOf('\n}')).matchAll(/^ {2}(?:readonly )?(\w+)(?:<[^>]*>)?[(:]/gm)]
  .map((m) => m[1])
  .filter((name) => name !== 'constructor')
  .sort();

test('every value declared in index.d.ts is exported by the ESM and the CommonJS entry, and nothing else', () => {
  assert.deepEqual(Object.keys(esm).filter((k) => k !== 'default').sort(), declaredValues);
  assert.deepEqual(Object.keys(cjs).sort(), declaredValues);
});

test('Client has exactly the methods index.d.ts declares', () => {
  // `__`-prefixed members are wasm-bindgen's internals, not API.
  const methods = Object.getOwnPropertyNames(esm.Client.prototype)
    .filter((name) => name !== 'constructor' && !name.startsWith('__'))
    .sort();
  assert.deepEqual(methods, declaredMethods);
});

test('Lock has exactly the members index.d.ts declares; asyncDispose is release() and dispose is free()', () => {
  const lockBody = declarations.slice(declarations.indexOf('export class Lock'));
  const body = lockBody.slice(0, lockBody.indexOf('\n}'));
  const declared = [...body.matchAll(/^ {2}(?:readonly )?(\w+)[(:]/gm)].map((m) => m[1]).filter((name) => name !== 'constructor').sort();
  const prototype = esm.Lock.prototype;
  const actual = Object.getOwnPropertyNames(prototype).filter((name) => name !== 'constructor' && !name.startsWith('__')).sort();
  assert.deepEqual(actual, declared);
  for (const getter of ['url', 'token', 'fencing', 'owner', 'ttlMs', 'expiresInMs', 'lost']) {
    assert.equal(typeof Object.getOwnPropertyDescriptor(prototype, getter).get, 'function', `${getter} is a getter`);
  }
  assert.equal(prototype[Symbol.dispose], prototype.free);
  assert.equal(typeof prototype[Symbol.asyncDispose], 'function');
  assert.match(body, /^ {2}\[Symbol\.dispose\]\(\): void;$/m);
  assert.match(body, /^ {2}\[Symbol\.asyncDispose\]\(\): Promise<void>;$/m);
});

test('Transaction has exactly the members index.d.ts declares; asyncDispose rolls back and dispose is free()', () => {
  const txBody = declarations.slice(declarations.indexOf('export class Transaction'));
  const body = txBody.slice(0, txBody.indexOf('\n}'));
  const declared = [...body.matchAll(/^ {2}(?:readonly )?(\w+)(?:<[^>]*>)?[(:]/gm)].map((m) => m[1]).filter((name) => name !== 'constructor').sort();
  const prototype = esm.Transaction.prototype;
  const actual = Object.getOwnPropertyNames(prototype).filter((name) => name !== 'constructor' && !name.startsWith('__')).sort();
  assert.deepEqual(actual, declared);
  for (const getter of ['id', 'url', 'expiresAt', 'ttlMs', 'expiresInMs', 'open']) {
    assert.equal(typeof Object.getOwnPropertyDescriptor(prototype, getter).get, 'function', `${getter} is a getter`);
  }
  assert.equal(prototype[Symbol.dispose], prototype.free);
  assert.equal(typeof prototype[Symbol.asyncDispose], 'function');
  assert.match(body, /^ {2}\[Symbol\.asyncDispose\]\(\): Promise<void>;$/m);
});

test('the ESM entry does not load the CommonJS one; both load the one wasm file, and isIfmatchError knows either error', async () => {
  // Node's `import` gets the ES module glue instantiated from pkg/ifmatch_wasm_bg.wasm, `require`
  // the CommonJS glue instantiated from the same file: two instances, as for any dual package.
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', `
    import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
    import { Client } from 'ifmatch';
    new Client();
    console.log(JSON.stringify(Object.keys(createRequire(import.meta.url)('node:module')._cache)));
  `], { cwd: fileURLToPath(new URL('.', import.meta.url)) });
  assert.deepEqual(JSON.parse(stdout), [], 'import loaded CommonJS modules');
  assert.equal(typeof esm.version(), 'string');
  assert.equal(esm.version(), cjs.version());
  let thrown;
  try {
    new cjs.Client({ nope: true }); // eslint-disable-line no-new
  } catch (err) {
    thrown = err;
  }
  assert.ok(thrown instanceof cjs.IfmatchError);
  assert.equal(esm.isIfmatchError(thrown), true, 'isIfmatchError recognises an error of the other instance');
});

test('IfmatchError is a real Error subclass with the name on its prototype', () => {
  const { IfmatchError } = esm;
  assert.equal(Object.getPrototypeOf(IfmatchError), Error);
  assert.equal(IfmatchError.prototype.name, 'IfmatchError');
  assert.match(declarations, /^export class IfmatchError extends Error \{/m);
});

test('Client[Symbol.dispose] exists (the runtime defines Symbol.dispose) and is free(), as index.d.ts declares', () => {
  assert.equal(typeof Symbol.dispose, 'symbol', 'Node 18.18+/20.4+ define Symbol.dispose');
  assert.equal(esm.Client.prototype[Symbol.dispose], esm.Client.prototype.free);
  assert.match(classBody.slice(0, classBody.indexOf('\n}')), /^ {2}\[Symbol\.dispose\]\(\): void;$/m);
  const client = new esm.Client();
  client[Symbol.dispose]();
  assert.throws(() => client.stats(), 'a disposed client is unusable');
});

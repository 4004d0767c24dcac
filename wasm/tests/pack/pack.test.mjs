// `npm pack` produces a tarball that a fresh Node project can `npm install` and use (CommonJS,
// ESM and TypeScript), against the reference server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { env } from '../support/env.mjs';

const run = promisify(execFile);
const WASM_DIR = fileURLToPath(new URL('../..', import.meta.url));
const TSC = join(WASM_DIR, 'node_modules/.bin/tsc');
let work;
let project;
let packed;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ifmatch-pack-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: WASM_DIR });
  [packed] = JSON.parse(stdout);
  project = join(work, 'consumer');
  await run('mkdir', [project]);
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
  await run('npm', ['install', '--no-audit', '--no-fund', join(work, packed.filename)], { cwd: project });
});
after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('the tarball holds the wasm once, both glues, the entries, the shim and the declarations, and nothing else', () => {
  // The shim (wasm/js/shim.js) sits in a folder named after the crate and a hash of it.
  const files = packed.files.map((f) => f.path.replace(/snippets\/ifmatch-wasm-[0-9a-f]+\//, 'snippets/ifmatch-wasm-HASH/')).sort();
  assert.deepEqual(files, [
    'README.md',
    'package.json',
    'pkg/guard.cjs',
    'pkg/guard.js',
    'pkg/ifmatch_wasm.cjs',
    'pkg/ifmatch_wasm.js',
    'pkg/ifmatch_wasm_bg.wasm',
    'pkg/index.cjs',
    'pkg/index.d.cts',
    'pkg/index.d.ts',
    'pkg/index.js',
    'pkg/node.js',
    'pkg/package.json',
    'pkg/snippets/ifmatch-wasm-HASH/js/shim.cjs',
    'pkg/snippets/ifmatch-wasm-HASH/js/shim.js',
    'pkg/web.d.cts',
    'pkg/web.d.ts',
    'web/package.json',
  ]);
});

const SCRIPT = (importLine) => `${importLine}
(async () => {
  const client = new Client({ baseUrl: process.env.IFMATCH_URL });
  const invalid = await client.get(42).catch((err) => err);
  if (!(invalid instanceof IfmatchError) || !(invalid instanceof Error) || invalid.code !== 'invalid_argument') throw new Error('not an IfmatchError: ' + invalid);
  const created = await client.create('/items', { from: 'consumer' });
  const read = await client.get(created.location);
  await client.put(created.location, { ...read.value, n: 0 }, { ifMatch: read.etag });
  const stale = await client.put(created.location, read.value, { ifMatch: read.etag }).catch((err) => err.code);
  if (stale !== 'precondition_failed') throw new Error('a put from a stale read was not refused: ' + stale);
  const lock = await client.lock(created.location, { ttl: 1000 });
  if (!(lock instanceof Lock)) throw new Error('client.lock() did not resolve to a Lock');
  const updated = await client.update(created.location, (doc) => ({ ...doc, n: doc.n + 1 }), { lock });
  await lock[Symbol.asyncDispose]();
  if (lock.lost !== 'it was released') throw new Error('[Symbol.asyncDispose]() did not release the lock: ' + lock.lost);
  console.log(JSON.stringify(updated.value));
})().catch((err) => { console.error(err.code, err.message); process.exit(1); });
`;

test('a fresh project can require() the installed package and use it', async () => {
  await writeFile(join(project, 'use.cjs'), SCRIPT("const { Client, IfmatchError, Lock } = require('ifmatch');"));
  const { stdout } = await run('node', ['use.cjs'], { cwd: project, env: { ...process.env, IFMATCH_URL: env.url } });
  assert.deepEqual(JSON.parse(stdout), { from: 'consumer', n: 1 });
});

test('a fresh project can import the installed package and use it', async () => {
  await writeFile(join(project, 'use.mjs'), SCRIPT("import { Client, IfmatchError, Lock } from 'ifmatch';"));
  const { stdout } = await run('node', ['use.mjs'], { cwd: project, env: { ...process.env, IFMATCH_URL: env.url } });
  assert.deepEqual(JSON.parse(stdout), { from: 'consumer', n: 1 });
});

test('TypeScript in a fresh project finds the declarations through the exports map', async () => {
  await writeFile(join(project, 'use.mts'), `import { Client, IfmatchError, type Versioned } from 'ifmatch';
const client = new Client({ baseUrl: 'http://127.0.0.1:1', timeout: 5000, credentials: 'omit' });
export const code = client.get('/items/1').catch((err: unknown) => (err instanceof IfmatchError ? err.code : 'other'));
export const read: Promise<Versioned<{ n: number }>> = client.get<{ n: number }>('/items/1');
export const written = read.then((r) => client.put('/items/1', { n: r.value.n + 1 }, { ifMatch: r.etag }));
// @ts-expect-error: every write names the version it is conditional on
export const blind = client.put('/items/1', { n: 1 });
`);
  // A CommonJS file: `require` types (index.d.cts), no default export.
  await writeFile(join(project, 'use.cts'), `import { Client, init, initSync } from 'ifmatch';
export const ready: Promise<void> = init();
export const sync: typeof initSync = initSync;
export const client = new Client({ baseUrl: 'http://127.0.0.1:1' });
`);
  await writeFile(join(project, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [] },
    files: ['use.mts', 'use.cts'],
  }));
  await run(TSC, ['-p', 'tsconfig.json'], { cwd: project });
});

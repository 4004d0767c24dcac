// The packed package in the bundlers people use, each with its default configuration: `npm pack`,
// unpacked into the fixture's node_modules (its bundlers come from the committed package-lock.json,
// installed by wasm/scripts/test.sh), a tiny app (app/src/main.js) built by each, served on
// 127.0.0.1 with the API forwarded to the reference server, and opened in headless Chromium,
// where it creates, reads and updates a document; the same app from Vite 8's and 7's dev servers. Also: @arethetypeswrong/cli on the tarball, and
// 'ifmatch/web' under TypeScript's moduleResolution node10 (which ignores `exports`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import puppeteer from 'puppeteer-core';
import { startServer } from '../../../examples/browser/serve.mjs';
import { env } from '../support/env.mjs';

const run = promisify(execFile);
const WASM_DIR = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixture', import.meta.url));
const APP = fileURLToPath(new URL('./app', import.meta.url));
const MODULES = join(FIXTURE, 'node_modules');
const bin = (pkg, file) => join(MODULES, pkg, file);
let work;
let tarball;
let browser;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ifmatch-bundlers-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: WASM_DIR });
  tarball = join(work, JSON.parse(stdout)[0].filename);
  const installed = join(MODULES, 'ifmatch');
  await rm(installed, { recursive: true, force: true });
  await mkdir(installed);
  await run('tar', ['-xzf', tarball, '--strip-components=1', '-C', installed]);
  browser = await puppeteer.launch({
    executablePath: env.chromium,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', `--user-data-dir=${join(work, 'profile')}`],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A fresh app folder (app/ copied, node_modules linked to the fixture's). */
async function app(name) {
  const dir = join(work, name);
  await cp(APP, dir, { recursive: true });
  await symlink(MODULES, join(dir, 'node_modules'), 'dir');
  return dir;
}

/** Serves `dist` at / (the API forwarded), opens it, and returns what the app wrote. */
async function open(dist) {
  const site = await startServer({ api: env.url, mounts: { '/': dist } });
  const page = await browser.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/^Failed to load resource: the server responded with a status of 404/.test(msg.text())) {
      problems.push(`console error: ${msg.text()}`);
    }
  });
  try {
    await page.goto(`${site.url}/index.html`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-state="done"]', { timeout: 20_000 });
    const result = JSON.parse(await page.$eval('#out', (el) => el.textContent));
    return { result, problems, wasm: (await readdir(dist, { recursive: true })).filter((f) => f.endsWith('.wasm')) };
  } finally {
    await page.close();
    await site.close();
  }
}

function assertWorked({ result, problems, wasm }) {
  assert.deepEqual(problems, []);
  assert.deepEqual(result, { ok: true, read: { n: 1 }, updated: { n: 2 }, etagChanged: true });
  assert.equal(wasm.length, 1, `one wasm in the output: ${wasm.join(', ')}`);
}

for (const [name, pkg] of [['Vite 8', 'vite'], ['Vite 7', 'vite7'], ['Vite 6', 'vite6']]) {
  test(`${name}, default config: vite build, and the page updates a document`, async () => {
    const dir = await app(pkg);
    await run(process.execPath, [bin(pkg, 'bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: dir });
    assertWorked(await open(join(dir, 'dist')));
  });
}

test('webpack 5, default config (src/index.js -> dist/main.js): the page updates a document', async () => {
  const dir = await app('webpack');
  await cp(join(dir, 'src/main.js'), join(dir, 'src/index.js'));
  await run(process.execPath, [bin('webpack-cli', 'bin/cli.js'), '--mode', 'production'], { cwd: dir });
  await writeFile(join(dir, 'dist/index.html'), page('<script src="main.js"></script>'));
  assertWorked(await open(join(dir, 'dist')));
});

/**
 * Vite's dev server (JS API; `config` on top of the defaults) with /items proxied to the reference
 * server; returns what the app wrote. `fs.allow` only because the app's node_modules is a link
 * to the fixture's, outside the app folder.
 */
async function viteDev(pkg, config) {
  const dir = await app(`${pkg}-dev-${Object.keys(config).join('-') || 'default'}`);
  const { createServer } = await import(join(MODULES, pkg, 'dist/node/index.js'));
  const server = await createServer({
    root: dir,
    configFile: false,
    logLevel: 'silent',
    server: { host: '127.0.0.1', port: 0, proxy: { '/items': env.url }, fs: { allow: [dir, MODULES] } },
    ...config,
  });
  await server.listen();
  const page = await browser.newPage();
  try {
    await page.goto(`${server.resolvedUrls.local[0]}index.html`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-state="done"]', { timeout: 30_000 });
    return JSON.parse(await page.$eval('#out', (el) => el.textContent));
  } finally {
    await page.close();
    await server.close();
  }
}

const WORKED = { ok: true, read: { n: 1 }, updated: { n: 2 }, etagChanged: true };

test('Vite 8 dev server, default config: the page updates a document', async () => {
  assert.deepEqual(await viteDev('vite', {}), WORKED);
});

test("Vite 7 dev server: with optimizeDeps.exclude ['ifmatch'] (documented) the page updates a document", async () => {
  assert.deepEqual(await viteDev('vite7', { optimizeDeps: { exclude: ['ifmatch'] } }), WORKED);
});

test('Vite 7 dev server, default config: the first request rejects with wasm_unavailable naming optimizeDeps.exclude', async () => {
  const result = await viteDev('vite7', {});
  assert.equal(result.ok, false);
  assert.equal(result.code, 'wasm_unavailable');
  assert.match(result.message, /answered an HTML page, not the wasm; Vite's dependency pre-bundling moved the module away from its wasm: add `optimizeDeps: \{ exclude: \['ifmatch'\] \}` to vite\.config/);
});

/** esbuild with the wasm copied next to the bundle, the one documented step. */
async function esbuild(name, format, copyWasm) {
  const dir = await app(name);
  const args = ['src/main.js', '--bundle', '--outfile=dist/app.js', '--log-level=error'];
  if (format) args.push(`--format=${format}`);
  await run(bin('esbuild', 'bin/esbuild'), args, { cwd: dir });
  if (copyWasm) await cp(join(MODULES, 'ifmatch/pkg/ifmatch_wasm_bg.wasm'), join(dir, 'dist/ifmatch_wasm_bg.wasm'));
  const tag = format === 'esm' ? '<script type="module" src="app.js"></script>' : '<script src="app.js"></script>';
  await writeFile(join(dir, 'dist/index.html'), page(tag));
  return join(dir, 'dist');
}

test('esbuild, default format (iife), wasm copied next to the bundle: the page updates a document', async () => {
  assertWorked(await open(await esbuild('esbuild-iife', null, true)));
});

test('esbuild --format=esm, wasm copied next to the bundle: the page updates a document', async () => {
  assertWorked(await open(await esbuild('esbuild-esm', 'esm', true)));
});

test('esbuild without the copy step: the first request rejects with a catchable wasm_unavailable saying what to do', async () => {
  const { result } = await open(await esbuild('esbuild-nocopy', null, false));
  assert.equal(result.ok, false);
  assert.equal(result.ours, true);
  assert.equal(result.code, 'wasm_unavailable');
  assert.match(result.message, /^could not fetch the ifmatch wasm: http:\/\/127\.0\.0\.1:\d+\/ifmatch_wasm_bg\.wasm answered 404; call `await init\(url\)` with the URL you serve ifmatch_wasm_bg\.wasm at \(copy it from node_modules\/ifmatch\/pkg\/\)$/);
});

test('@arethetypeswrong/cli finds no problem in the tarball', async () => {
  const { stdout } = await run(process.execPath, [bin('@arethetypeswrong/cli', 'dist/index.js'), tarball, '--format', 'table-flipped'], { cwd: work })
    .catch((err) => assert.fail(`attw reported problems:\n${err.stdout}${err.stderr}`));
  assert.match(stdout, /No problems found/);
});

test("TypeScript moduleResolution node10 resolves 'ifmatch' and 'ifmatch/web' (no exports map)", async () => {
  const dir = await app('node10');
  await writeFile(join(dir, 'use.ts'), `import { Client, init, initSync, type Versioned } from 'ifmatch';
import { Client as WebClient, IfmatchError, init as webInit } from 'ifmatch/web';
export const ready: Promise<void> = init('/assets/ifmatch_wasm_bg.wasm');
export const sync: (bytes: Uint8Array) => void = (bytes) => initSync({ module: bytes });
export const web: typeof Client = WebClient;
export const read: Promise<Versioned<{ n: number }>> = new Client().get<{ n: number }>('/items/1');
export const isOurs = (err: unknown): boolean => err instanceof IfmatchError;
export const alsoInit: typeof init = webInit;
`);
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, noEmit: true, module: 'commonjs', moduleResolution: 'node10', target: 'es2022', lib: ['es2022', 'dom'], types: [] },
    files: ['use.ts'],
  }));
  await run(join(WASM_DIR, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: dir })
    .catch((err) => assert.fail(`tsc: ${err.stdout}${err.stderr}`));
});

function page(script) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body><pre id="out"></pre>${script}</body></html>\n`;
}

// Per-operation overhead of the npm package: each operation next to the same HTTP exchange made
// with plain `fetch` (same method, headers, body, and the response read and parsed the same way),
// in the same run, alternated operation by operation. Informational (docs/performance.md); not
// part of the tests, and it asserts nothing about time.
//   node wasm/scripts/bench.mjs [--url http://127.0.0.1:8080] [--rounds 10] [--per-round 100]
//                               [--json] [--show-requests] [--server-bin PATH] [--entry FILE]
//                               [--deprecated]
// Without --url it starts a reference server (the workspace's ifmatch-server, built with cargo
// if needed, or --server-bin) on a free loopback port and stops it at the end. --entry imports
// another build of the package (its pkg/node.js, say a copy of an earlier build) instead.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rounds = Number(flag('--rounds', '10'));
const perRound = Number(flag('--per-round', '100'));
const asJson = args.includes('--json');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Starts the reference server on a free port; resolves to { url, stop }. */
async function startServer() {
  let bin = flag('--server-bin', undefined);
  if (!bin) {
    const meta = JSON.parse(execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], { cwd: ROOT }));
    bin = join(meta.target_directory, 'debug', 'ifmatch-server');
    if (!existsSync(bin)) execFileSync('cargo', ['build', '--quiet', '-p', 'ifmatch-server'], { cwd: ROOT, stdio: 'inherit' });
  }
  // By default the server does not mark its API deprecated, as most APIs: with --deprecated its
  // answers carry Deprecation, Sunset and Link, which the SDK reads on every response.
  const quiet = args.includes('--deprecated') ? [] : ['--v1-deprecation', 'none', '--v1-sunset', 'none'];
  const child = spawn(bin, ['--addr', '127.0.0.1:0', ...quiet], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`the reference server did not log its URL:\n${log}`)), 10_000);
    const read = (chunk) => {
      log += chunk.toString().replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex
      const found = log.match(/http:\/\/127\.0\.0\.1:[0-9]+/);
      if (found) {
        clearTimeout(timer);
        resolve(found[0]);
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`the reference server exited (${code}):\n${log}`)));
  });
  child.removeAllListeners('exit');
  return { url, stop: () => child.kill() };
}

const server = flag('--url', undefined) ? { url: flag('--url'), stop: () => {} } : await startServer();
const base = server.url;

let started = performance.now();
// The package's own entry (self-reference through wasm/package.json "exports"), wherever the
// build puts it: reads, compiles and instantiates the wasm.
const entry = flag('--entry', undefined);
const { Client } = await import(entry ? pathToFileURL(resolve(entry)).href : 'ifmatch');
const loadMs = performance.now() - started;

// A small document like an application's: a counter, some text, a list and a nested object.
const documentFor = (n) => ({
  n,
  title: 'Quarterly report',
  tags: ['finance', 'q3', 'draft'],
  owner: { id: 42, name: 'Ada', email: 'ada@example.com' },
  updatedAt: '2026-01-01T00:00:00.000Z',
});

// The headers the package sends, seen through a recording `fetch`, so that plain fetch sends the
// same ones (the conditional header's value changes per request and is set below).
const seen = [];
const probe = new Client({
  baseUrl: base,
  fetch: (url, init) => {
    seen.push({ method: init.method, url: String(url), headers: [...new Headers(init.headers)], body: init.body });
    return fetch(url, init);
  },
});
const probed = await probe.create('/items', documentFor(0));
await probe.get(probed.location);
await probe.get(probed.location);
const put = await probe.put(probed.location, documentFor(1), { ifMatch: probed.etag });
await probe.update(probed.location, (d) => ({ ...d, n: d.n + 1 }));
if (args.includes('--show-requests')) {
  for (const r of seen) console.error(r.method, r.url, JSON.stringify(r.headers), r.body === undefined ? '' : `body: ${r.body.constructor.name} (${r.body.length})`);
}
const headersOf = (request) => request.headers.filter(([name]) => !/^if-(none-)?match$/.test(name));
const getHeaders = headersOf(seen[2]);
const putHeaders = headersOf(seen.find((r) => r.method === 'PUT'));
void put;

/** One resource for the package and one for plain fetch, so that neither sees the other's ETags. */
async function resource() {
  const client = new Client({ baseUrl: base });
  const { location, etag } = await client.create('/items', documentFor(0));
  return { client, url: new URL(location, base).href, location, etag, doc: documentFor(0) };
}

/** Plain fetch of `url` with `headers` (+ `extra`), reading the body as the package does. */
async function exchange(method, url, headers, extra, body) {
  const init = { method, headers: [...headers, ...extra] };
  if (body !== undefined) init.body = body;
  if (method !== 'GET') init.redirect = 'manual';
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, etag: response.headers.get('etag'), value: text ? JSON.parse(text) : undefined };
}

// Each case: a `wasm` and a `fetch` operation over the same kind of exchange, each with its state.
const cases = {
  'get (304 from cache)': async () => {
    const mine = await resource();
    const plain = await resource();
    await mine.client.get(mine.location);
    let cached = plain.doc;
    return {
      wasm: () => mine.client.get(mine.location),
      fetch: async () => {
        const answer = await exchange('GET', plain.url, getHeaders, [['if-none-match', plain.etag]]);
        if (answer.status !== 304) throw new Error(`plain fetch GET answered ${answer.status}, not 304`);
        return cached;
      },
      check: async () => {
        const read = await mine.client.get(mine.location);
        if (!read.fromCache) throw new Error('the package did not answer the get from its cache');
        cached = read.value;
      },
    };
  },
  'put (ifMatch)': async () => {
    const mine = await resource();
    const plain = await resource();
    let n = 0;
    return {
      wasm: async () => {
        const written = await mine.client.put(mine.location, documentFor((n += 1)), { ifMatch: mine.etag });
        mine.etag = written.etag;
      },
      fetch: async () => {
        const body = JSON.stringify(documentFor((n += 1)));
        const answer = await exchange('PUT', plain.url, putHeaders, [['if-match', plain.etag]], body);
        if (answer.status >= 300) throw new Error(`plain fetch PUT answered ${answer.status}`);
        plain.etag = answer.etag;
      },
    };
  },
  'update (one conditional PUT)': async () => {
    const mine = await resource();
    const plain = await resource();
    await mine.client.get(mine.location);
    const change = (d) => ({ ...d, n: d.n + 1 });
    return {
      wasm: () => mine.client.update(mine.location, change),
      fetch: async () => {
        const doc = change(plain.doc);
        const answer = await exchange('PUT', plain.url, putHeaders, [['if-match', plain.etag]], JSON.stringify(doc));
        if (answer.status >= 300) throw new Error(`plain fetch PUT answered ${answer.status}`);
        plain.etag = answer.etag;
        plain.doc = answer.value ?? doc;
      },
    };
  },
};

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
const summary = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: quantile(sorted, 0.5), p90: quantile(sorted, 0.9) };
};

const results = [];
for (const [name, make] of Object.entries(cases)) {
  const op = await make();
  if (op.check) await op.check();
  const times = { wasm: [], fetch: [] };
  const cpu = { wasm: [], fetch: [] };
  const once = async (side) => {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await op[side]();
    times[side].push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu[side].push((c.user + c.system) / 1000);
  };
  // Warm-up (JIT, connection pool), not counted.
  for (let i = 0; i < 50; i += 1) { await op.wasm(); await op.fetch(); }
  for (const list of [times.wasm, times.fetch, cpu.wasm, cpu.fetch]) list.length = 0;
  for (let round = 0; round < rounds; round += 1) {
    for (let i = 0; i < perRound; i += 1) {
      // Alternated, and the order swapped every other pair, so that drift hits both sides alike.
      const [first, second] = (round + i) % 2 ? ['fetch', 'wasm'] : ['wasm', 'fetch'];
      await once(first);
      await once(second);
    }
  }
  const wasm = summary(times.wasm);
  const plain = summary(times.fetch);
  results.push({
    op: name,
    samples: times.wasm.length,
    ifmatch: wasm,
    fetch: plain,
    overheadMs: { median: wasm.median - plain.median, p90: wasm.p90 - plain.p90 },
    ratio: wasm.median / plain.median,
    // This process's CPU time (user + system) per operation: what the package adds, without
    // the server's time or waiting for a core, which make wall-clock figures noisy here.
    cpuMs: { ifmatch: summary(cpu.wasm).median, fetch: summary(cpu.fetch).median },
    cpuOverheadMs: summary(cpu.wasm).median - summary(cpu.fetch).median,
  });
}
server.stop();

const report = { node: process.version, cpus: os.availableParallelism?.() ?? os.cpus().length, rounds, perRound, deprecatedServer: args.includes('--deprecated'), importMs: loadMs, results };
if (asJson) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const ms = (x) => x.toFixed(3).padStart(8);
  console.log(`${rounds} rounds x ${perRound} operations per side, alternated; ms per operation (${process.version})`);
  console.log(`${'operation'.padEnd(30)} ${'ifmatch med'.padStart(11)} ${'p90'.padStart(8)} ${'fetch med'.padStart(10)} ${'p90'.padStart(8)} ${'overhead'.padStart(9)} ${'p90'.padStart(8)} ${'ratio'.padStart(6)} ${'cpu overhead'.padStart(12)}`);
  for (const r of results) {
    console.log(`${r.op.padEnd(30)} ${ms(r.ifmatch.median).padStart(11)} ${ms(r.ifmatch.p90)} ${ms(r.fetch.median).padStart(10)} ${ms(r.fetch.p90)} ${ms(r.overheadMs.median).padStart(9)} ${ms(r.overheadMs.p90)} ${r.ratio.toFixed(2).padStart(6)} ${ms(r.cpuOverheadMs).padStart(12)}`);
  }
  console.log('overhead = ifmatch - fetch (medians; p90s); cpu overhead: the same for this process\'s CPU time per operation');
  console.log(`import (read, compile and instantiate the wasm): ${loadMs.toFixed(1)} ms`);
}

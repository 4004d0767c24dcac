// Per-operation cost of the Node build against a reference server on this machine, next to a plain
// fetch of the same resource. Informational (docs/performance.md); not part of the tests.
//   node wasm/scripts/bench.mjs --url http://127.0.0.1:8080 [--rounds 500]
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const base = flag('--url', 'http://127.0.0.1:8080');
const rounds = Number(flag('--rounds', '500'));

let started = performance.now();
const { Client } = await import('../pkg/node.js'); // reads, compiles and instantiates the wasm
const loadMs = performance.now() - started;

const client = new Client({ baseUrl: base });
const { location } = await client.create('/items', { n: 0 });
await client.get(location);

async function timed(operation) {
  started = performance.now();
  for (let i = 0; i < rounds; i += 1) await operation();
  return (performance.now() - started) / rounds;
}

const results = {
  rounds,
  'get (304 revalidation), ms': await timed(() => client.get(location)),
  'update (one conditional PUT), ms': await timed(() => client.update(location, (d) => ({ n: d.n + 1 }))),
  'plain fetch GET (no wasm), ms': await timed(async () => (await fetch(new URL(location, base))).text()),
  'import (compile + instantiate), ms': loadMs,
};
for (const [name, value] of Object.entries(results)) console.log(`${name.padEnd(38)} ${typeof value === 'number' && name !== 'rounds' ? value.toFixed(3) : value}`);

// Several writers race on one document through the reference server. Each writer has its own
// client (its own ETag cache, as separate processes would); every increment goes through
// `update`, which recovers from 412/409 by re-applying the change on fresh state. For contrast,
// the same workload with plain unconditional GET-then-PUT loses updates.
//
//   cargo run -p ifmatch-server -- --addr 127.0.0.1:8080
//   (cd examples/node && npm install) && node examples/node/race.mjs --url http://127.0.0.1:8080 [--strategy merge]
import { Client } from 'ifmatch';

const args = process.argv.slice(2);
function flag(name, fallback) {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
}
const baseUrl = flag('url', 'http://127.0.0.1:8080');
const writers = Number(flag('writers', '6'));
const increments = Number(flag('increments', '20'));
const strategy = flag('strategy', 'reapply');
if (!['reapply', 'merge'].includes(strategy)) {
  console.error("--strategy must be 'reapply' or 'merge'");
  process.exit(2);
}
// With 'merge', both sides changed /counter, so the resolver adds my increment to theirs.
const options = strategy === 'merge'
  ? { strategy, resolve: ({ path, base, mine, theirs }) => (path === '/counter' ? theirs + (mine - base) : undefined) }
  : { strategy };
if (!Number.isInteger(writers) || writers < 1 || !Number.isInteger(increments) || increments < 1) {
  console.error('--writers and --increments must be positive whole numbers');
  process.exit(2);
}
const expected = writers * increments;

async function withIfmatch() {
  const setup = new Client({ baseUrl });
  const { location } = await setup.create('/items', { counter: 0 });
  const clients = Array.from({ length: writers }, () => new Client({ baseUrl, retry: { preset: 'contended' } }));
  await Promise.all(
    clients.map(async (client) => {
      for (let i = 0; i < increments; i += 1) {
        await client.update(location, (doc) => ({ ...doc, counter: doc.counter + 1 }), options);
      }
    }),
  );
  const { value } = await setup.get(location);
  const total = (key) => clients.reduce((sum, c) => sum + c.stats()[key], 0);
  return { final: value.counter, conflicts: total('conflicts412') + total('conflicts409'), retries: total('retries') };
}

async function naive() {
  const created = await fetch(new URL('/items', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ counter: 0 }),
  });
  const url = new URL(created.headers.get('location'), baseUrl);
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let i = 0; i < increments; i += 1) {
        const doc = await (await fetch(url)).json();
        await fetch(url, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...doc, counter: doc.counter + 1 }),
        });
      }
    }),
  );
  return (await (await fetch(url)).json()).counter;
}

const safe = await withIfmatch();
console.log(`ifmatch (${strategy}): ${writers} writers x ${increments} increments -> counter ${safe.final} (expected ${expected}); ` +
  `${safe.conflicts} conflicts recovered with ${safe.retries} retries`);
const lost = await naive();
console.log(`naive GET-then-PUT without If-Match: counter ${lost} (${expected - lost} updates lost)`);
if (safe.final !== expected) {
  console.error(`error: ifmatch lost ${expected - safe.final} updates`);
  process.exit(1);
}

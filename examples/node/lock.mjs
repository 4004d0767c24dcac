// Several workers take turns on one document under a lock: each takes the lock (queueing while
// another holds it), reads, does slow work on what it read, and writes the result back without
// If-Match: nobody else can write in between, so no result is lost and nothing is redone. Each
// worker has its own client, as separate processes would. Meanwhile a client without the lock
// tries to write and is refused with code 'locked'.
//
//   cargo run -p ifmatch-server -- --addr 127.0.0.1:8080
//   (cd examples/node && npm install) && node examples/node/lock.mjs --url http://127.0.0.1:8080
import { Client, IfmatchError } from 'ifmatch';

const args = process.argv.slice(2);
function flag(name, fallback) {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
}
const baseUrl = flag('url', 'http://127.0.0.1:8080');
const workers = Number(flag('workers', '4'));
const rounds = Number(flag('rounds', '3'));
// Short, so that a crashed worker frees the document soon; the lock renews itself meanwhile.
const ttl = Number(flag('ttl', '3000'));
if (![workers, rounds, ttl].every((n) => Number.isInteger(n) && n >= 1)) {
  console.error('--workers, --rounds and --ttl must be positive whole numbers');
  process.exit(2);
}
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

const lost = [];
const onEvent = (event) => { if (event.type === 'lockLost') lost.push(event); };
const setup = new Client({ baseUrl });
const { location } = await setup.create('/items', { total: 0, log: [] });

async function worker(id) {
  const client = new Client({ baseUrl, onEvent });
  for (let round = 0; round < rounds; round += 1) {
    // Queue for up to a minute while another worker holds the lock. (Where the runtime has it,
    // `await using lock = await client.lock(…)` releases it at the end of the block instead.)
    const lock = await client.lock(location, { ttl, wait: 60_000, owner: `worker ${id}` });
    try {
      const { value } = await client.get(location);
      await sleep(50); // the slow part: with update() it would run again after every conflict
      const next = { total: value.total + 1, log: [...value.log, `worker ${id} (fencing ${lock.fencing})`] };
      await client.put(location, next, { unconditional: true, lock });
    } finally {
      await lock.release();
    }
  }
}

/** A client without the lock tries to write while the workers run. */
async function intruder() {
  const client = new Client({ baseUrl });
  await sleep(120);
  try {
    await client.patch(location, { intruder: true }, { unconditional: true });
    return 'a write without the lock went through (the document was between two holders at that moment)';
  } catch (err) {
    if (!(err instanceof IfmatchError) || err.code !== 'locked') throw err;
    return `a write without the lock was refused: ${err.code} (held by ${err.problem?.owner ?? 'someone'}; retryAfterMs ${err.retryAfterMs})`;
  }
}

const [, intruded] = await Promise.all([
  Promise.all(Array.from({ length: workers }, (_, id) => worker(id))),
  intruder(),
]);
const { value } = await setup.get(location);
console.log(`${workers} workers x ${rounds} rounds under a lock -> total ${value.total} (expected ${workers * rounds}), ${value.log.length} log lines`);
console.log(`first lines: ${value.log.slice(0, 3).join('; ')}`);
console.log(intruded);
if (lost.length) console.log(`locks lost: ${lost.map((e) => e.reason).join('; ')}`);
if (value.total !== workers * rounds || value.log.length !== workers * rounds) {
  console.error(`error: ${workers * rounds - value.total} results lost`);
  process.exit(1);
}

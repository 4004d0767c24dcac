// Transfers between accounts with interactive transactions: several workers, each with its own
// client, move money between a few accounts at the same time. Each transfer reads both balances
// in a transaction, decides, and writes both; the commit is refused when another transfer changed
// an account in between, and client.transaction() runs the transfer again in a new transaction.
// No money is created or lost: the total stays what it was. An opening batch creates the
// accounts, all at once.
//
//   cargo run -p ifmatch-server -- --addr 127.0.0.1:8080
//   (cd examples/node && npm install) && node examples/node/transfer.mjs --url http://127.0.0.1:8080
import { Client } from 'ifmatch';

const args = process.argv.slice(2);
function flag(name, fallback) {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
}
const baseUrl = flag('url', 'http://127.0.0.1:8080');
const accounts = Number(flag('accounts', '3'));
const workers = Number(flag('workers', '4'));
const transfers = Number(flag('transfers', '5'));
if (![accounts, workers, transfers].every((n) => Number.isInteger(n) && n >= 1) || accounts < 2) {
  console.error('--workers and --transfers must be positive whole numbers, --accounts at least 2');
  process.exit(2);
}
const opening = 100;
// Many writers on few documents: allow plenty of runs, with short pauses in between.
const retry = { maxConflictAttempts: 50, conflictBackoff: { initialMs: 2, maxMs: 50 } };

// Open every account in one atomic batch: all of them exist, or none.
const setup = new Client({ baseUrl, retry });
const opened = await setup.batch(
  Array.from({ length: accounts }, (_, i) => ({ op: 'create', lid: `account-${i}`, body: { name: `account ${i}`, balance: opening } })),
);
const paths = opened.results.map((result) => result.path);

let conflicts = 0;
let refused = 0;
async function worker(id) {
  const client = new Client({
    baseUrl,
    retry,
    onEvent: (event) => { if (event.type === 'transactionConflict') conflicts += 1; },
  });
  for (let n = 0; n < transfers; n += 1) {
    const from = paths[(id + n) % accounts];
    const to = paths[(id + n + 1) % accounts];
    const amount = 1 + ((id * 31 + n * 17) % 40);
    // The function may run several times: it reads and writes only through `tx`.
    const moved = await client.transaction(async (tx) => {
      const a = await tx.get(from);
      const b = await tx.get(to);
      if (a.value.balance < amount) return false; // committed with nothing written
      await tx.patch(from, { balance: a.value.balance - amount }, { ifMatch: a.etag });
      await tx.patch(to, { balance: b.value.balance + amount }, { ifMatch: b.etag });
      return true;
    }, { ttl: 10_000 });
    if (!moved) refused += 1;
  }
}

await Promise.all(Array.from({ length: workers }, (_, id) => worker(id)));
const balances = await Promise.all(paths.map(async (path) => (await setup.get(path)).value.balance));
const total = balances.reduce((sum, n) => sum + n, 0);
console.log(`${workers} workers x ${transfers} transfers between ${accounts} accounts -> balances ${balances.join(', ')}; total ${total} (expected ${accounts * opening})`);
console.log(`${conflicts} commits refused and run again; ${refused} transfers declined for want of funds`);
if (total !== accounts * opening) {
  console.error(`error: the total changed by ${total - accounts * opening}`);
  process.exit(1);
}

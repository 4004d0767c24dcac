// Live conflict notifications through the reference server (started with tokens): a subscriber
// prints conflicts as they happen while two writers collide, then one of them resolves its
// conflict, and the subscriber sees the resolution.
//
//   cargo run -p ifmatch-server -- --addr 127.0.0.1:8080 \
//     --client-token alice=alice-token --client-token bob=bob-token --admin-token root=root-token
//   (cd examples/node && npm install) && node examples/node/conflicts.mjs --url http://127.0.0.1:8080
import { Client } from 'ifmatch';

const at = process.argv.indexOf('--url');
const baseUrl = at >= 0 ? process.argv[at + 1] : 'http://127.0.0.1:8080';
const as = (name) => new Client({ baseUrl, bearerToken: `${name}-token` });
const alice = as('alice');
const bob = as('bob');
const ops = as('root'); // an admin: sees every conflict

const { location } = await alice.create('/items', { title: 'Plan', owner: 'nobody' });
const path = new URL(location).pathname;

// The subscriber: a loop over an async iterable; `break` closes the stream.
const watching = (async () => {
  let resolved = 0;
  for await (const event of ops.conflicts.subscribe({ resources: [path] })) {
    if (event.type === 'gap') {
      console.log('[ops] missed some events; list the open conflicts');
    } else if (event.type === 'conflict') {
      const r = event.record;
      console.log(`[ops] ${r.id}: ${r.client}'s ${r.method} refused (${r.status}); it wanted ${JSON.stringify(r.rejected.body)}`);
    } else {
      const r = event.record;
      console.log(`[ops] ${r.id} resolved by ${r.resolution.by}: ${r.resolution.choice}`);
      resolved += 1;
      if (resolved === 1) break;
    }
  }
})();
await new Promise((done) => setTimeout(done, 200)); // let the subscription connect

// Two writers read the same version and write: the server takes one and records the other.
const [a, b] = await Promise.all([alice.get(path), bob.get(path)]);
const writes = await Promise.allSettled([
  alice.put(path, { ...a.value, owner: 'alice' }, { ifMatch: a.etag }),
  bob.put(path, { ...b.value, owner: 'bob' }, { ifMatch: b.etag }),
]);
const refused = writes.find((w) => w.status === 'rejected').reason;
const loser = writes[0].status === 'rejected' ? alice : bob;
console.log(`a write was refused: ${refused.code}, recorded as ${refused.conflictId}`);

// The refused writer looks at the record and decides: its change wins after all ('mine').
const record = await loser.conflicts.get(refused.conflictId);
await loser.conflicts.resolve(record.id, { resolution: 'mine' });
await watching;
console.log('stored:', (await ops.get(path)).value);

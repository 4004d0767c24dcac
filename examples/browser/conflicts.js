// Live conflict events: one client subscribes to the conflict log's stream; two other clients
// (two tabs, two users) write the same version of a document, so the server refuses one and
// records a conflict, which arrives here at once; "Resolve" settles it and the resolution arrives.
import { Client, IfmatchError } from 'ifmatch';
import { baseUrl } from './api.js';

const $ = (id) => document.getElementById(id);
const watcher = new Client({ baseUrl });
const stop = new AbortController();
let lastOpen = null;

function log(text, kind) {
  const li = document.createElement('li');
  li.textContent = text;
  if (kind) li.className = kind;
  $('events').append(li);
}

function describe(event) {
  if (event.type === 'gap') return `missed events after #${event.after} (oldest kept: #${event.oldest})`;
  const r = event.record;
  if (event.type === 'conflict') {
    return `#${r.seq} ${r.id}: ${r.method} ${r.resource} refused (${r.status} ${r.kind}), based on v${r.basedOn?.version} while at v${r.current?.version}`;
  }
  return `${r.id} resolved: ${r.resolution.choice}${r.resolution.by ? ` by ${r.resolution.by}` : ''}, now v${r.resolution.version}`;
}

async function listen() {
  document.body.dataset.state = 'listening';
  try {
    for await (const event of watcher.conflicts.subscribe({ prefixes: ['/items/'], signal: stop.signal })) {
      log(describe(event), event.type);
      if (event.type === 'conflict') lastOpen = event.record.id;
      if (event.type === 'resolved' && lastOpen === event.record.id) lastOpen = null;
      $('resolve').disabled = lastOpen === null;
      document.body.dataset.events = String($('events').children.length);
    }
    $('status').textContent = 'stopped listening';
    document.body.dataset.state = 'stopped';
  } catch (err) {
    $('status').textContent = err instanceof IfmatchError ? `${err.code}: ${err.message}` : String(err);
    document.body.dataset.state = 'error';
  }
}

async function collide() {
  const alice = new Client({ baseUrl });
  const bob = new Client({ baseUrl });
  const { location: url } = await alice.create('/items', { title: 'draft' });
  const path = new URL(url).pathname;
  const [a, b] = await Promise.all([alice.get(path), bob.get(path)]);
  const results = await Promise.allSettled([
    alice.put(path, { title: 'Alice was here' }, { ifMatch: a.etag }),
    bob.put(path, { title: 'Bob was here' }, { ifMatch: b.etag }),
  ]);
  const refused = results.find((r) => r.status === 'rejected')?.reason;
  $('status').textContent = refused ? `one write was refused: ${refused.code}, recorded as ${refused.conflictId}` : 'no conflict this time';
}

$('collide').addEventListener('click', () => collide().catch((err) => { $('status').textContent = String(err); }));
$('resolve').addEventListener('click', async () => {
  $('resolve').disabled = true;
  try {
    await watcher.conflicts.resolve(lastOpen, { resolution: 'theirs' });
  } catch (err) {
    $('status').textContent = `${err.code}: ${err.message}`;
  }
});
$('stop').addEventListener('click', () => stop.abort());
$('collide').textContent = 'Make two writers collide';
$('collide').disabled = false;
$('stop').disabled = false;
listen();
